# Recall of the hnsw index on real data (12,000 GloVe word vectors, 100 dimensions), measured
# against exact answers computed in the same test: after a build, after inserts into the
# built index, after deleting half of the rows and VACUUM, after new rows reuse the freed
# heap space, and for the l2 operator class.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/lib";

use AnnTap;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Floors for recall@10 (hits counted by distance, so ties at the 10th distance count),
# set a little below what this test measures; see the notes printed by each check.
my %floor = (
	build_40    => 0.97,
	build_100   => 0.985,
	insert_40   => 0.97,
	insert_100  => 0.985,
	vacuum_40   => 0.97,
	vacuum_100  => 0.985,
	reuse_40    => 0.97,
	reuse_100   => 0.985,
	l2_40       => 0.97,
	l2_100      => 0.985);

my $node = ann_node('recall');
$node->start;
my $log_start = log_position($node);
$node->safe_psql('postgres', 'CREATE EXTENSION ann');

load_glove($node);
is($node->safe_psql('postgres', 'SELECT count(*), count(DISTINCT v) FROM glove'),
	'12000|12000', 'GloVe sample loaded: 12,000 distinct vectors');

# 200 query words spread over the sample (ids 7, 67, ..., 11947).
is($node->safe_psql('postgres', "SELECT count(*) FROM glove q WHERE $glove_query_filter"),
	'200', '200 query vectors');

sub exact_top10
{
	my ($op) = @_;
	return glove_top10($node, 'SET enable_indexscan = off; SET enable_bitmapscan = off;', $op);
}

# Recall of the index at `ef` against `exact`, plus sanity checks of the index answers:
# 10 rows per query, no row twice, nondecreasing true distance (a row whose heap slot was
# reused by another vector would break the order) and no row of `forbidden` ids.
sub check_recall
{
	my ($name, $op, $index, $ef, $exact, %params) = @_;
	my $settings = "SET enable_seqscan = off; SET hnsw.ef_search = $ef;";
	ok(uses_index($node, $settings, glove_top10_query($op), $index), "$name: the plan scans $index");
	my ($recall, $malformed) = score_top10($exact, glove_top10($node, $settings, $op), $params{forbidden});
	is_deeply($malformed, [], "$name: 10 distinct rows per query, in distance order"
		  . ($params{forbidden} ? ', no deleted row' : ''));
	my $key = "${name}_$ef";
	cmp_ok($recall, '>=', $floor{$key}, sprintf("%s: recall\@10 at ef_search %d is %.4f (floor %.3f)",
		$name, $ef, $recall, $floor{$key}));
	return $recall;
}

# 1. Build on the first 9,000 words.
$node->safe_psql(
	'postgres', q(
CREATE TABLE items (id int PRIMARY KEY, v vector(100) NOT NULL);
INSERT INTO items SELECT id, v FROM glove WHERE id <= 9000;
CREATE INDEX items_cos ON items USING hnsw (v vector_cosine_ops) WITH (m = 16, ef_construction = 64);
));
my $exact = exact_top10('<=>');
check_recall('build', '<=>', 'items_cos', $_, $exact) for (40, 100);

# 2. Insert the other 3,000 words into the built index.
$node->safe_psql('postgres', 'INSERT INTO items SELECT id, v FROM glove WHERE id > 9000');
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '12000', '3,000 rows inserted after the build');
$exact = exact_top10('<=>');
check_recall('insert', '<=>', 'items_cos', $_, $exact) for (40, 100);

# 3. Delete every even id, VACUUM: recall over what is left, and deleted rows never come back.
$node->safe_psql('postgres', 'DELETE FROM items WHERE id % 2 = 0');
$node->safe_psql('postgres', 'VACUUM items');
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '6000', 'half of the rows deleted');
$exact = exact_top10('<=>');
check_recall('vacuum', '<=>', 'items_cos', $_, $exact, forbidden => sub { $_[0] % 2 == 0 })
  for (40, 100);

# 4. New rows (the deleted words again, under new ids) fill the heap space VACUUM freed: the
# index must not return them through the removed elements' stale heap TIDs.
$node->safe_psql('postgres', 'INSERT INTO items SELECT id + 100000, v FROM glove WHERE id % 2 = 0');
ok( $node->safe_psql(
		'postgres', q(SELECT count(*) > 0 FROM items
WHERE id > 100000 AND (ctid::text::point)[0] < (SELECT max((ctid::text::point)[0]) FROM items WHERE id < 100000))),
	'new rows reuse heap pages freed by VACUUM');
$exact = exact_top10('<=>');
check_recall('reuse', '<=>', 'items_cos', $_, $exact,
	forbidden => sub { $_[0] < 100000 && $_[0] % 2 == 0 })
  for (40, 100);

# 5. The l2 operator class on the same 12,000 rows.
$node->safe_psql(
	'postgres', q(
DROP INDEX items_cos;
CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);
));
$exact = exact_top10('<->');
check_recall('l2', '<->', 'items_l2', $_, $exact) for (40, 100);

my @problems = server_log_problems($node, $log_start);
is_deeply(\@problems, [], 'no errors in the server log');

$node->stop;
done_testing();
