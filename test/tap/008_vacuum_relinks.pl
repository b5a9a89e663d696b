# VACUUM links in elements nothing links to. Concurrent inserts can leave such an orphan
# (004 sees one now and then); here one is made on purpose: with the server stopped, every
# link to one element of the index file is pointed elsewhere. The orphan's row can then not
# be found through the index at any ef_search; after VACUUM it is, and so is every other row.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use AnnTap;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 8;
my $m = 4;
my $node = ann_node('relink');
$node->start;
$node->safe_psql(
	'postgres', qq(
CREATE EXTENSION ann;
CREATE TABLE t (id int PRIMARY KEY, v vector($dim));
INSERT INTO t SELECT g, @{[ random_vector_sql($dim, 'g') ]} FROM generate_series(1, 2000) g;
CREATE INDEX t_l2 ON t USING hnsw (v vector_l2_ops) WITH (m = $m, ef_construction = 32);
CHECKPOINT;
));
my $file = $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('t_l2')");
$node->stop;

use constant PAGE_SIZE => 8192;
use constant PAGE_HEADER => 24;
use constant LINK_BYTES => 6;

open my $fh, '+<:raw', $file or die "open $file: $!";
local $/;
my $data = <$fh>;

sub read_tid
{
	my ($offset) = @_;
	my ($hi, $lo, $pos) = unpack 'v3', substr($data, $offset, LINK_BYTES);
	return (($hi << 16) | $lo, $pos);
}

# The meta page: magic, version, dimensions, m, ef_construction, then the entry point.
my ($entry_block, $entry_offset) = read_tid(PAGE_HEADER + 16);
# The orphan-to-be: the tenth element of the first element page, unless it is the entry.
my ($target_block, $target_offset) = (1, $entry_block == 1 && $entry_offset == 10 ? 11 : 10);

# Every element tuple as [file offset of its link slots, level].
my @elements;
for my $page (1 .. length($data) / PAGE_SIZE - 1)
{
	my $base = $page * PAGE_SIZE;
	my $lower = unpack 'v', substr($data, $base + 12, 2);
	for my $item (1 .. ($lower - PAGE_HEADER) / 4)
	{
		my $line_pointer = unpack 'V', substr($data, $base + PAGE_HEADER + 4 * ($item - 1), 4);
		my ($start, $flags) = ($line_pointer & 0x7FFF, ($line_pointer >> 15) & 3);
		next unless $flags == 1;    # LP_NORMAL
		my $tuple = $base + $start;
		next unless unpack('C', substr($data, $tuple, 1)) == 1;    # an element, not heap TIDs
		my $level = unpack 'C', substr($data, $tuple + 1, 1);
		push @elements, [ $tuple + 12 + 4 * $dim, $level, $page, $item ];
	}
}
my ($target) = grep { $_->[2] == $target_block && $_->[3] == $target_offset } @elements;
ok($target, "element ($target_block,$target_offset) found in the index file");
my $slots_of_target = 2 * $m + $target->[1] * $m;
my ($heap_block, $heap_offset) = read_tid($target->[0] + LINK_BYTES * $slots_of_target);

# Each link to the target takes the value of another link of the same list; a list whose
# only link is the target becomes empty.
my $invalid = pack 'v3', 0xFFFF, 0xFFFF, 0;
my $redirected = 0;
for my $element (@elements)
{
	my ($links, $level) = @$element;
	for my $l (0 .. $level)
	{
		my $first = $l == 0 ? 0 : 2 * $m + ($l - 1) * $m;
		my $capacity = $l == 0 ? 2 * $m : $m;
		my @slots = map { $links + LINK_BYTES * ($first + $_) } 0 .. $capacity - 1;
		my @to_target = grep {
			my ($b, $o) = read_tid($_);
			$b == $target_block && $o == $target_offset
		} @slots;
		next unless @to_target;
		my ($other) = grep {
			my ($b, $o) = read_tid($_);
			$b != 0xFFFFFFFF && $o != 0 && !($b == $target_block && $o == $target_offset)
		} @slots;
		my $replacement = defined $other ? substr($data, $other, LINK_BYTES) : $invalid;
		substr($data, $_, LINK_BYTES) = $replacement for @to_target;
		$redirected += @to_target;
	}
}
cmp_ok($redirected, '>', 0, "$redirected links to the element redirected");
seek $fh, 0, 0;
print $fh $data;
close $fh;

$node->start;
my ($orphan_id) = $node->safe_psql('postgres', "SELECT id FROM t WHERE ctid = '($heap_block,$heap_offset)'") =~ /(\d+)/;
ok(defined $orphan_id, 'the element holds the row with id ' . ($orphan_id // 'none'));
my (undef, $failed) = self_match_failures($node, 't', '<->', 't_l2', where => "t.id = $orphan_id");
is_deeply($failed, [$orphan_id], 'before VACUUM the orphaned row cannot be found through the index');

$node->safe_psql('postgres', 'VACUUM t');
my ($count, $after) = self_match_failures($node, 't', '<->', 't_l2');
is($count, 2000, 'after VACUUM all 2000 rows checked');
is_deeply($after, [], 'after VACUUM every row, the orphan included, is found through the index');
my ($ret, $out, $err) = $node->psql('postgres', "SELECT item || ' ' || count FROM ann_index_check('t_l2')");
is($ret, 0, 'ann_index_check finds no damage after the repair') or diag($err);

$node->stop;
done_testing();
