# An index file may end in all-zero pages after a crash: an insert extends the file before
# the record that sets the new page up reaches the WAL, and recovery keeps the length but
# not the page. Such pages are no damage. This appends zero pages to an hnsw and an ivfflat
# index while the server is down, then checks that VACUUM (with and without dead rows), the
# index check, scans (including hnsw's walk over every page for a NULL query) and inserts
# all carry on, and that the answers are those of an exact scan.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/lib";

use AnnTap;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $block_size = 8192;
my $node = ann_node('zero_pages');
$node->start;
my $log_start = log_position($node);
# One table per index, so that each index answers its own queries.
my %table = (t_hnsw => 'th', t_ivfflat => 'ti');
$node->safe_psql('postgres', 'CREATE EXTENSION ann');
for my $name ('th', 'ti')
{
	$node->safe_psql('postgres', qq(
CREATE TABLE $name (id int PRIMARY KEY, v vector(4));
INSERT INTO $name SELECT i, ARRAY[i % 17, i % 13, i % 7, i % 5]::vector FROM generate_series(1, 2000) i;
));
}
$node->safe_psql('postgres', q(
CREATE INDEX t_hnsw ON th USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX t_ivfflat ON ti USING ivfflat (v vector_l2_ops) WITH (lists = 4);
));
my %file = map { $_ => $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('$_')") }
  keys %table;
my %blocks = map { $_ => $node->safe_psql('postgres', "SELECT pg_relation_size('$_') / $block_size") } keys %file;
$node->stop;

for my $index (sort keys %file)
{
	open(my $fh, '>>:raw', $file{$index}) or die "open $file{$index}: $!";
	print $fh "\0" x (2 * $block_size) or die "write $file{$index}: $!";
	close($fh) or die "close $file{$index}: $!";
}
$node->start;
for my $index (sort keys %file)
{
	is($node->safe_psql('postgres', "SELECT pg_relation_size('$index') / $block_size"),
		$blocks{$index} + 2, "$index ends in two zero pages");
}

# The 5 nearest ids to a few queries, through the table's index (forced) or exactly.
sub answers
{
	my ($name, $exact) = @_;
	my $settings = $exact
	  ? 'SET enable_indexscan = off; SET enable_bitmapscan = off;'
	  : 'SET enable_seqscan = off; SET hnsw.ef_search = 100; SET ivfflat.probes = 4;';
	return join(
		"\n",
		map {
			$node->safe_psql('postgres',
				"$settings SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, v <-> '$_' AS d FROM $name ORDER BY v <-> '$_', id LIMIT 5) s"
			)
		} ('[1,2,3,4]', '[16,0,6,0]', '[8,8,3,2]'));
}

sub check_all
{
	my ($when) = @_;
	for my $index (sort keys %table)
	{
		my $name = $table{$index};
		my ($ret, $out, $err) = $node->psql('postgres', "SELECT count FROM ann_index_check('$index') WHERE item = 'heap TIDs'");
		is("$ret $err", '0 ', "$when: $index passes the check");
		is($out, $node->safe_psql('postgres', "SELECT count(*) FROM $name"), "$when: $index holds every row");
		is(answers($name, 0), answers($name, 1), "$when: answers through $index are exact");
	}
}

my ($ret, $out, $err) = $node->psql('postgres', 'VACUUM th, ti');
is("$ret $err", '0 ', 'VACUUM with no dead rows passes the zero pages');
($ret, $out, $err) = $node->psql('postgres', q(
SET enable_seqscan = off;
SET plan_cache_mode = force_generic_plan;
PREPARE nearest_to(vector) AS SELECT count(*) FROM (SELECT id FROM th ORDER BY v <-> $1 LIMIT 5000) s;
EXECUTE nearest_to(NULL);));
is("$ret $out $err", '0 2000 ', 'an hnsw scan for a NULL query walks every page, and returns every row');
check_all('after VACUUM');

$node->safe_psql('postgres', 'DELETE FROM th WHERE id % 3 = 0; DELETE FROM ti WHERE id % 3 = 0');
($ret, $out, $err) = $node->psql('postgres', 'VACUUM th, ti');
is("$ret $err", '0 ', 'VACUUM with dead rows passes the zero pages');
check_all('after DELETE and VACUUM');

for my $name ('th', 'ti')
{
	$node->safe_psql('postgres',
		"INSERT INTO $name SELECT i, ARRAY[i % 19, i % 11, i % 7, i % 3]::vector FROM generate_series(3001, 4000) i");
}
check_all('after more inserts');

is(join("\n", server_log_problems($node, $log_start)), '', 'no errors or crashes in the server log');
$node->stop;
done_testing();
