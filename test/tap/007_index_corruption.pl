# ann_index_check finds damage written into hnsw and ivfflat index files while the server is
# down: one index per kind of damage, all built alike on one table, each edited differently
# (byte offsets follow src/pg/hnsw_page.hpp and src/pg/ivfflat_page.hpp). Each damaged
# index fails the check with index_corrupted (XX002) and a message naming the damage; an
# undamaged twin passes; REINDEX repairs a damaged one.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/lib";

use AnnTap;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $block_size = 8192;
my $dim = 4;
my $m = 4;

my $node = ann_node('corruption');
$node->start;
is($node->safe_psql('postgres', 'SHOW data_checksums'), 'off',
	'data checksums are off (damaged pages must reach the checker)');

# The damage cases: the name of each index, how its file is edited, and what the check says.
my @cases = (
	[ 'magic',      \&break_magic,          qr/corrupted at block 0\n.*DETAIL:  The magic number is 0xDEADBEEF/s ],
	[ 'entry',      \&break_entry_point,    qr/corrupted at block 0\n.*DETAIL:  The entry point \(1,999\) is not an element/s ],
	[ 'page_id',    \&break_page_id,        qr/corrupted at block 1\n.*DETAIL:  The page id is 0x1234/s ],
	[ 'kind',       \&break_kind,           qr/corrupted at block 1, offset \d+\n.*DETAIL:  The tuple is of unknown kind 9/s ],
	[ 'level',      \&break_level,          qr/DETAIL:  The element's level 40 is above the cap/ ],
	[ 'link_block', \&break_link_block,     qr/DETAIL:  A link of level 0 points to block 1000, beyond the index's \d+ blocks/ ],
	[ 'link_hole',  \&break_link_hole,      qr/DETAIL:  Link slot 2 of level 0 follows an empty slot/ ],
	[ 'link_chunk', \&link_to_overflow,     qr/DETAIL:  A link of level 0 points to \(\d+,\d+\), which holds an overflow tuple/ ],
	[ 'heap_block', \&break_heap_block,     qr/DETAIL:  Heap TID \(5000,\d+\) lies beyond the table's \d+ blocks/ ],
	[ 'heap_lp',    \&break_heap_offset,    qr/DETAIL:  Heap TID \(\d+,250\) points to an unused line pointer/ ],
	[ 'chain_loop', \&loop_overflow_chain,  qr/DETAIL:  The overflow chain of the element's heap TIDs loops at/ ],
	[ 'orphan',     \&orphan_overflow,      qr/DETAIL:  The overflow tuple is in no element's chain/ ],
	# hnsw on vectors kept in chunks (2,000 dimensions)
	[ 'vec_short', \&shorten_vector, qr/DETAIL:  The vector's chunks end after 1000 of its 2000 floats/, 'chunked' ],
	[ 'vec_nan',   \&break_vector_value, qr/DETAIL:  Element 5 of the vector is not finite/, 'chunked' ],
	[ 'vec_link',  \&link_to_vector_chunk,
		qr/DETAIL:  A link of level 0 points to \(\d+,\d+\), which holds a vector chunk/, 'chunked' ],
	# ivfflat (byte offsets follow src/pg/ivfflat_page.hpp)
	[ 'ivf_loop', \&loop_ivfflat_chain, qr/DETAIL:  The list's chain reaches block \d+ a second time/, 'ivfflat' ],
	[ 'ivf_heap', \&break_ivfflat_heap_tid, qr/DETAIL:  Row 0 points to \(5000,\d+\), outside the table's \d+ blocks/, 'ivfflat' ],);
my %ddl = (
	hnsw => "ON t USING hnsw (v vector_l2_ops) WITH (m = $m, ef_construction = 16)",
	chunked => "ON w USING hnsw (v vector_l2_ops) WITH (m = $m, ef_construction = 16)",
	ivfflat => 'ON t USING ivfflat (v vector_l2_ops) WITH (lists = 4)');

# 400 distinct vectors and 40 copies of one (an overflow chain): few enough rows for 250
# to be past the last line pointer of every table page. Table w holds 40 vectors of 2,000
# dimensions, which hnsw keeps in chunks.
$node->safe_psql(
	'postgres', qq(
CREATE EXTENSION ann;
CREATE TABLE t (id int PRIMARY KEY, v vector($dim));
INSERT INTO t SELECT i, ARRAY[i % 17, i % 13, i % 7, i % 5]::vector FROM generate_series(1, 400) i;
INSERT INTO t SELECT 1000 + i, '[9,9,9,9]' FROM generate_series(1, 40) i;
CREATE INDEX sound ON t USING hnsw (v vector_l2_ops) WITH (m = $m, ef_construction = 16);
CREATE TABLE w (id int PRIMARY KEY, v vector(2000));
INSERT INTO w SELECT i, (SELECT array_agg(sin(i * 0.7::float8 + j)) FROM generate_series(1, 2000) j)::vector
FROM generate_series(1, 40) i;
));
$node->safe_psql('postgres', "CREATE INDEX ivf_sound $ddl{ivfflat}");
for my $case (@cases)
{
	$node->safe_psql('postgres', "CREATE INDEX $case->[0] $ddl{$case->[3] // 'hnsw'}");
}
for my $index ('sound', 'ivf_sound', map { $_->[0] } @cases)
{
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT count(*) FROM ann_index_check('$index')");
	is("$ret $err", '0 ', "$index passes the check before any damage");
}
my %file = map { $_ => $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('$_')") }
  map { $_->[0] } @cases;
$node->stop;

for my $case (@cases)
{
	my ($name, $damage) = @$case;
	$damage->($file{$name});
}
$node->start;

for my $case (@cases)
{
	my ($name, undef, $expected) = @$case;
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT * FROM ann_index_check('$name')",
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($ret, 0, "$name: the check fails");
	like($err, qr/ERROR:  XX002: index "$name" is corrupted/, "$name: index_corrupted, naming the index");
	like($err, $expected, "$name: the message names the damage") or diag($err);
}
my ($ret, $out, $err) = $node->psql('postgres', "SELECT count(*) FROM ann_index_check('sound')");
is("$ret $out $err", '0 8 ', 'the undamaged index still passes');
($ret, $out, $err) = $node->psql('postgres', "SELECT count FROM ann_index_check('ivf_sound') WHERE item = 'heap TIDs'");
is("$ret $out $err", '0 440 ', 'the undamaged ivfflat index still passes, with every row');

$node->safe_psql('postgres', 'REINDEX INDEX link_block');
($ret, $out, $err) = $node->psql('postgres', "SELECT count(*) FROM ann_index_check('link_block')");
is("$ret $out $err", '0 8 ', 'REINDEX repairs a damaged index');

$node->stop;
done_testing();

# --- reading and writing pages ------------------------------------------------------------

sub read_block
{
	my ($file, $block) = @_;
	open(my $fh, '<:raw', $file) or die "open $file: $!";
	seek($fh, $block * $block_size, 0) or die "seek $file: $!";
	read($fh, my $page, $block_size) == $block_size or die "short read of block $block of $file";
	close($fh);
	return $page;
}

sub write_block
{
	my ($file, $block, $page) = @_;
	open(my $fh, '+<:raw', $file) or die "open $file: $!";
	seek($fh, $block * $block_size, 0) or die "seek $file: $!";
	print $fh $page or die "write $file: $!";
	close($fh) or die "close $file: $!";
}

# Line pointers of a page: [offset number, byte offset, flags, length] of the normal ones.
sub tuples
{
	my ($page) = @_;
	my $lower = unpack('v', substr($page, 12, 2));
	my @tuples;
	for (my $at = 24, my $number = 1; $at < $lower; $at += 4, $number++)
	{
		my $item = unpack('V', substr($page, $at, 4));
		my ($start, $flags, $length) = ($item & 0x7FFF, ($item >> 15) & 3, $item >> 17);
		push @tuples, [ $number, $start, $flags, $length ] if $flags == 1;
	}
	return @tuples;
}

sub tid_bytes
{
	my ($block, $offset) = @_;
	return pack('vvv', $block >> 16, $block & 0xFFFF, $offset);
}

sub tid_at
{
	my ($page, $at) = @_;
	my ($high, $low, $offset) = unpack('vvv', substr($page, $at, 6));
	return (($high << 16) | $low, $offset);
}

# Element layout: kind, level, heap TID count, overflow TID, unused, vector, links, heap TIDs.
sub links_start { my ($tuple_start) = @_; return $tuple_start + 12 + 4 * $dim; }

sub heap_tids_start
{
	my ($page, $tuple_start) = @_;
	my $level = ord(substr($page, $tuple_start + 1, 1));
	return links_start($tuple_start) + 6 * (2 * $m + $level * $m);
}

# The first element of block 1 (the build puts the entry point there, linked and with rows).
sub first_element
{
	my ($file) = @_;
	my $page = read_block($file, 1);
	for my $tuple (tuples($page))
	{
		return ($page, $tuple) if ord(substr($page, $tuple->[1], 1)) == 1;
	}
	die "no element on block 1 of $file";
}

# The element whose heap TIDs overflow, and the TID of its first overflow tuple.
sub element_with_chain
{
	my ($file) = @_;
	my $blocks = (-s $file) / $block_size;
	for my $block (1 .. $blocks - 1)
	{
		my $page = read_block($file, $block);
		for my $tuple (tuples($page))
		{
			next unless ord(substr($page, $tuple->[1], 1)) == 1;
			my ($chunk_block, $chunk_offset) = tid_at($page, $tuple->[1] + 4);
			return ($block, $page, $tuple, $chunk_block, $chunk_offset) if $chunk_offset != 0;
		}
	}
	die "no element with an overflow chain in $file";
}

# The TID of the first chunk of the vector of a chunked index's first element (its layout:
# kind, level, heap TID count, overflow TID, unused, first vector chunk, links, heap TIDs).
sub first_vector_chunk
{
	my ($file) = @_;
	my ($page, $tuple) = first_element($file);
	return tid_at($page, $tuple->[1] + 12);
}

sub chunk_start
{
	my ($page, $offset) = @_;
	my ($tuple) = grep { $_->[0] == $offset } tuples($page);
	die "no tuple at offset $offset" unless $tuple;
	return $tuple->[1];
}

# --- the damage ---------------------------------------------------------------------------

sub break_magic
{
	my ($file) = @_;
	my $page = read_block($file, 0);
	substr($page, 24, 4) = pack('V', 0xDEADBEEF);
	write_block($file, 0, $page);
}

sub break_entry_point
{
	my ($file) = @_;
	my $page = read_block($file, 0);
	substr($page, 40, 6) = tid_bytes(1, 999);
	write_block($file, 0, $page);
}

sub break_page_id
{
	my ($file) = @_;
	my $page = read_block($file, 1);
	substr($page, $block_size - 6, 2) = pack('v', 0x1234);
	write_block($file, 1, $page);
}

sub break_kind
{
	my ($file) = @_;
	my ($page, $tuple) = first_element($file);
	substr($page, $tuple->[1], 1) = chr(9);
	write_block($file, 1, $page);
}

sub break_level
{
	my ($file) = @_;
	my ($page, $tuple) = first_element($file);
	substr($page, $tuple->[1] + 1, 1) = chr(40);
	write_block($file, 1, $page);
}

sub break_link_block
{
	my ($file) = @_;
	my ($page, $tuple) = first_element($file);
	my $at = links_start($tuple->[1]);
	my (undef, $offset) = tid_at($page, $at);
	die 'first link slot is empty' if $offset == 0;
	substr($page, $at, 6) = tid_bytes(1000, $offset);
	write_block($file, 1, $page);
}

sub break_link_hole
{
	my ($file) = @_;
	my ($page, $tuple) = first_element($file);
	my $at = links_start($tuple->[1]);
	my (undef, $second) = tid_at($page, $at + 6);
	die 'second link slot is empty' if $second == 0;
	substr($page, $at, 6) = tid_bytes(0, 0);
	write_block($file, 1, $page);
}

sub link_to_overflow
{
	my ($file) = @_;
	my (undef, undef, undef, $chunk_block, $chunk_offset) = element_with_chain($file);
	my ($page, $tuple) = first_element($file);
	substr($page, links_start($tuple->[1]), 6) = tid_bytes($chunk_block, $chunk_offset);
	write_block($file, 1, $page);
}

sub break_heap_block
{
	my ($file) = @_;
	my ($page, $tuple) = first_element($file);
	my $at = heap_tids_start($page, $tuple->[1]);
	my (undef, $offset) = tid_at($page, $at);
	substr($page, $at, 6) = tid_bytes(5000, $offset);
	write_block($file, 1, $page);
}

sub break_heap_offset
{
	my ($file) = @_;
	my ($page, $tuple) = first_element($file);
	my $at = heap_tids_start($page, $tuple->[1]);
	my ($block) = tid_at($page, $at);
	substr($page, $at, 6) = tid_bytes($block, 250);
	write_block($file, 1, $page);
}

sub loop_overflow_chain
{
	my ($file) = @_;
	my (undef, undef, undef, $chunk_block, $chunk_offset) = element_with_chain($file);
	my $page = read_block($file, $chunk_block);
	substr($page, chunk_start($page, $chunk_offset) + 4, 6) = tid_bytes($chunk_block, $chunk_offset);
	write_block($file, $chunk_block, $page);
}

sub orphan_overflow
{
	my ($file) = @_;
	my ($block, $page, $tuple) = element_with_chain($file);
	substr($page, $tuple->[1] + 4, 6) = tid_bytes(0, 0);
	write_block($file, $block, $page);
}

# Vector chunk layout: kind, unused, count, next chunk's TID, padding, floats.
sub shorten_vector
{
	my ($file) = @_;
	my ($block, $offset) = first_vector_chunk($file);
	my $page = read_block($file, $block);
	substr($page, chunk_start($page, $offset) + 2, 2) = pack('v', 1000);
	write_block($file, $block, $page);
}

sub break_vector_value
{
	my ($file) = @_;
	my ($block, $offset) = first_vector_chunk($file);
	my $page = read_block($file, $block);
	substr($page, chunk_start($page, $offset) + 12 + 4 * 4, 4) = pack('V', 0x7FC00000);
	write_block($file, $block, $page);
}

sub link_to_vector_chunk
{
	my ($file) = @_;
	my ($chunk_block, $chunk_offset) = first_vector_chunk($file);
	my ($page, $tuple) = first_element($file);
	substr($page, $tuple->[1] + 12 + 6, 6) = tid_bytes($chunk_block, $chunk_offset);
	write_block($file, 1, $page);
}

# ivfflat: the first data page of the first list (list tuple: first block, insert block,
# centre), and the special space at the end of a data page (flags, page id, next block).
sub first_ivfflat_data_block
{
	my ($file) = @_;
	my $lists = read_block($file, 1);
	my ($first) = tuples($lists);
	return unpack('V', substr($lists, $first->[1], 4));
}

sub loop_ivfflat_chain
{
	my ($file) = @_;
	my $block = first_ivfflat_data_block($file);
	my $page = read_block($file, $block);
	substr($page, $block_size - 4, 4) = pack('V', $block);
	write_block($file, $block, $page);
}

sub break_ivfflat_heap_tid
{
	my ($file) = @_;
	my $block = first_ivfflat_data_block($file);
	my $page = read_block($file, $block);
	# Row 0's heap TID is the first below the 8-byte special space.
	substr($page, $block_size - 8 - 6, 4) = pack('vv', 0, 5000);
	write_block($file, $block, $page);
}
