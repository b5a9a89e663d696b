# A streaming standby replays the hnsw index's WAL (the build's full-page images, then
# inserts, VACUUM's changes) into the same pages as the primary's: its index scans return
# exactly the primary's rows in the same order, for vectors kept in their elements and for
# vectors too wide for that, kept in chunks (2,000 dimensions), and for a build past
# maintenance_work_mem with full_page_writes off. Unlogged hnsw indexes are not readable
# during recovery and come back empty and usable after promotion (their init fork).
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/lib";

use AnnTap;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $dim = 32;
my $vec = random_vector_sql($dim, 'g');
my $wide_vec = random_vector_sql(2000, 'g');

my $primary = ann_node('primary', allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION ann');
$primary->backup('base');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
my %log_start = (primary => log_position($primary), standby => log_position($standby));

$primary->safe_psql(
	'postgres', qq(
CREATE TABLE items (id bigserial PRIMARY KEY, v vector($dim));
INSERT INTO items (v) SELECT $vec FROM generate_series(1, 3000) g;
CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops);
CREATE INDEX items_cos ON items USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
INSERT INTO items (v) SELECT $vec FROM generate_series(1, 1000) g;
CREATE TABLE queries (qid int PRIMARY KEY, v vector($dim));
INSERT INTO queries SELECT g, $vec FROM generate_series(1, 20) g;
CREATE UNLOGGED TABLE scratch (id bigserial PRIMARY KEY, v vector($dim));
INSERT INTO scratch (v) SELECT $vec FROM generate_series(1, 200) g;
CREATE INDEX scratch_l2 ON scratch USING hnsw (v vector_l2_ops);
CREATE TABLE wide (id bigserial PRIMARY KEY, v vector(2000));
INSERT INTO wide (v) SELECT $wide_vec FROM generate_series(1, 300) g;
CREATE INDEX wide_l2 ON wide USING hnsw (v vector_l2_ops);
INSERT INTO wide (v) SELECT $wide_vec FROM generate_series(1, 100) g;
));

my $settings = 'SET enable_seqscan = off; SET hnsw.ef_search = 40;';

sub answers_query
{
	my ($op) = @_;
	return qq(SELECT q.qid, array_to_string(ARRAY(SELECT i.id FROM items i ORDER BY i.v $op q.v LIMIT 10), ',')
FROM queries q ORDER BY q.qid);
}

sub answers
{
	my ($node, $op) = @_;
	return $node->safe_psql('postgres', "$settings\n" . answers_query($op));
}

# The standby's answers equal the primary's; both are 10 rows per query and close to the
# exact answer (so equal answers cannot be equally empty or wrong).
sub compare_nodes
{
	my ($stage) = @_;
	$primary->wait_for_catchup($standby);
	for my $case ([ '<->', 'items_l2' ], [ '<=>', 'items_cos' ])
	{
		my ($op, $index) = @$case;
		ok(uses_index($standby, $settings, answers_query($op), $index), "$stage: standby plan scans $index");
		my $on_primary = answers($primary, $op);
		my $on_standby = answers($standby, $op);
		is($on_standby, $on_primary, "$stage: $index answers on the standby equal the primary's");

		my $exact = $primary->safe_psql(
			'postgres', "SET enable_indexscan = off; SET enable_bitmapscan = off;\n" . answers_query($op));
		my %want = map { split /\|/ } split /\n/, $exact;
		my ($hits, $rows, $short) = (0, 0, 0);
		for my $line (split /\n/, $on_primary)
		{
			my ($qid, $ids) = split /\|/, $line;
			my @ids = split /,/, $ids // '';
			$short++ if @ids != 10;
			my %exact_ids = map { $_ => 1 } split /,/, $want{$qid};
			$hits += grep { $exact_ids{$_} } @ids;
			$rows += 10;
		}
		is($short, 0, "$stage: $index returns 10 rows for each of the 20 queries");
		cmp_ok($hits / $rows, '>=', 0.6, "$stage: $index recall\@10 " . sprintf('%.3f', $hits / $rows));
	}
}

# ann_index_check finds no damage in the indexes (on the standby: as replayed, while it is
# in recovery).
sub index_check
{
	my ($node, @indexes) = @_;
	for my $index (@indexes)
	{
		my ($ret, $out, $err) = $node->psql('postgres', "SELECT item || ' ' || count FROM ann_index_check('$index')");
		is($ret, 0, $node->name . ": ann_index_check finds no damage in $index") or diag($err);
		note($node->name . " $index: " . join(', ', split /\n/, $out));
	}
}

compare_nodes('after build and inserts');

# VACUUM relinks around removed elements and frees their space; later inserts reuse it.
$primary->safe_psql('postgres', 'DELETE FROM items WHERE id % 5 = 0 OR id BETWEEN 1000 AND 1400');
$primary->safe_psql('postgres', 'VACUUM items');
$primary->safe_psql('postgres', "INSERT INTO items (v) SELECT $vec FROM generate_series(1, 800) g");
compare_nodes('after delete, VACUUM and inserts');
index_check($_, 'items_l2', 'items_cos') for $primary, $standby;

# The chunked index: its answers on the standby equal the primary's, after VACUUM freed
# elements and their chunks and inserts reused the room; every row is found through it.
$primary->safe_psql('postgres', 'DELETE FROM wide WHERE id % 4 = 0');
$primary->safe_psql('postgres', 'VACUUM wide');
$primary->safe_psql('postgres', "INSERT INTO wide (v) SELECT $wide_vec FROM generate_series(1, 50) g");
$primary->wait_for_catchup($standby);
my $wide_answers = q(SELECT q.id, array_to_string(ARRAY(SELECT w.id FROM wide w ORDER BY w.v <-> q.v LIMIT 10), ',')
FROM wide q WHERE q.id % 40 = 1 ORDER BY q.id);
ok(uses_index($standby, $settings, $wide_answers, 'wide_l2'), 'wide: standby plan scans wide_l2');
is($standby->safe_psql('postgres', "$settings
$wide_answers"), $primary->safe_psql('postgres', "$settings
$wide_answers"),
	'wide: wide_l2 answers on the standby equal the primary\'s');
my ($wide_count, $wide_failed) = self_match_failures($standby, 'wide', '<->', 'wide_l2');
is_deeply($wide_failed, [], 'wide: each row is its own nearest neighbour through wide_l2 on the standby');
is($wide_count, 350, 'wide: wide_l2 checked on all 350 rows');
index_check($_, 'wide_l2') for $primary, $standby;

# With full_page_writes off, a build whose graph outgrows maintenance_work_mem must log its
# pages before inserting the remaining rows one by one: a change record for a page the
# standby never received stops its replay.
$primary->safe_psql('postgres', "ALTER SYSTEM SET full_page_writes = off");
$primary->reload;
$primary->safe_psql(
	'postgres', qq(
CREATE TABLE spilled (id bigserial PRIMARY KEY, v vector($dim));
INSERT INTO spilled (v) SELECT $vec FROM generate_series(1, 6000) g;
SET maintenance_work_mem = '1MB';
CREATE INDEX spilled_l2 ON spilled USING hnsw (v vector_l2_ops);
));
$primary->safe_psql('postgres', "ALTER SYSTEM RESET full_page_writes");
$primary->reload;
$primary->wait_for_catchup($standby);
my $spilled_answers = q(SELECT q.qid, array_to_string(ARRAY(SELECT s.id FROM spilled s ORDER BY s.v <-> q.v LIMIT 10), ',')
FROM queries q ORDER BY q.qid);
ok(uses_index($standby, $settings, $spilled_answers, 'spilled_l2'), 'spilled: standby plan scans spilled_l2');
is($standby->safe_psql('postgres', "$settings\n$spilled_answers"),
	$primary->safe_psql('postgres', "$settings\n$spilled_answers"),
	'spilled: a build past maintenance_work_mem with full_page_writes off replays on the standby');
index_check($_, 'spilled_l2') for $primary, $standby;

# Unlogged tables cannot be read during recovery, through the index or otherwise.
my ($ret, $stdout, $stderr) = $standby->psql('postgres',
	"$settings SELECT id FROM scratch ORDER BY v <-> (SELECT v FROM queries WHERE qid = 1) LIMIT 5");
isnt($ret, 0, 'unlogged table with hnsw index: query on the standby fails');
like($stderr, qr/cannot access temporary or unlogged relations during recovery/,
	'unlogged table with hnsw index: the expected error');

# Promoted, the former standby writes to the replayed index; the unlogged index starts empty
# from its init fork and accepts rows.
$standby->promote;
$standby->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or die 'standby did not leave recovery';
$standby->safe_psql('postgres', "INSERT INTO items (v) SELECT $vec FROM generate_series(1, 500) g");
for my $case ([ '<->', 'items_l2' ], [ '<=>', 'items_cos' ])
{
	my ($op, $index) = @$case;
	my ($count, $failed) = self_match_failures($standby, 'items', $op, $index);
	is_deeply($failed, [], "promoted standby: each row of items is its own nearest neighbour through $index");
	cmp_ok($count // 0, '>', 4000, "promoted standby: $index checked on all rows");
}
is($standby->safe_psql('postgres', 'SELECT count(*) FROM scratch'), '0',
	'promoted standby: the unlogged table is empty');
# (The init fork holds the empty index; it must reach the standby through WAL.)
($ret, $stdout, $stderr) = $standby->psql('postgres', "INSERT INTO scratch (v) SELECT $vec FROM generate_series(1, 300) g");
is($ret, 0, 'promoted standby: rows can be inserted into the unlogged table') or diag($stderr);
my ($count, $failed) = self_match_failures($standby, 'scratch', '<->', 'scratch_l2');
is_deeply($failed, [], 'promoted standby: each row of the unlogged table is found through its index');
is($count, 300, 'promoted standby: 300 rows in the unlogged table');

($count, $failed) = self_match_failures($primary, 'scratch', '<->', 'scratch_l2');
is_deeply($failed, [], 'primary: each row of the unlogged table is found through its index');
is($count, 200, 'primary: 200 rows in the unlogged table');

index_check($_, 'items_l2', 'items_cos', 'scratch_l2') for $primary, $standby;

my @problems = server_log_problems($primary, $log_start{primary});
is_deeply(\@problems, [], 'no errors in the primary log');
@problems = server_log_problems($standby, $log_start{standby},
	qr/cannot access temporary or unlogged relations during recovery|STATEMENT: .*scratch|terminating walreceiver process due to administrator command/);
is_deeply(\@problems, [], 'no unexpected errors in the standby log');

$standby->stop;
$primary->stop;
done_testing();
