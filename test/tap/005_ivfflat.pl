# The ivfflat index on real data (12,000 GloVe word vectors, 100 dimensions), against exact
# answers computed in the same test: recall floors after a build, after concurrent inserts from
# several sessions, after deletes and VACUUM, and for the l2 class; a build with parallel
# workers (which really assign rows) writes the same pages and answers as a serial one; a
# streaming standby
# returns exactly the primary's answers; concurrent inserts, deletes, scans and VACUUM leave
# every row findable; an unlogged index comes back empty and usable after a crash.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/lib";

use AnnTap;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

# Floors for recall@10 (hits counted by distance, so ties at the 10th distance count), a
# little below what this test measures (printed by each check). 60 lists of ~150-200 rows.
# Measured: build 0.887 / 0.986, insert 0.900 / 0.989, vacuum 0.873 / 0.980, l2 0.895 / 0.988.
my %floor = (
	build_4    => 0.86,
	build_16   => 0.975,
	insert_4   => 0.87,
	insert_16  => 0.975,
	vacuum_4   => 0.85,
	vacuum_16  => 0.97,
	l2_4       => 0.87,
	l2_16      => 0.975);

my $primary = ann_node('ivf_primary', allows_streaming => 1, conf => "max_parallel_maintenance_workers = 2\n");
$primary->start;
my %log_start = (primary => log_position($primary));
$primary->safe_psql('postgres', 'CREATE EXTENSION ann');
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('ivf_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$log_start{standby} = log_position($standby);

load_glove($primary);
$primary->safe_psql(
	'postgres', qq(
CREATE TABLE items (id int PRIMARY KEY, v vector(100) NOT NULL);
INSERT INTO items SELECT id, v FROM glove WHERE id <= 9000;
));

sub exact_top10
{
	my ($op) = @_;
	return glove_top10($primary, 'SET enable_indexscan = off; SET enable_bitmapscan = off;', $op);
}

# Recall at `probes` against `exact`, plus sanity checks: 10 distinct rows per query in
# nondecreasing true distance, none of the `forbidden` ids.
sub check_recall
{
	my ($name, $op, $index, $probes, $exact, %params) = @_;
	my $settings = "SET enable_seqscan = off; SET ivfflat.probes = $probes;";
	ok(uses_index($primary, $settings, glove_top10_query($op), $index), "$name: the plan scans $index");
	my ($recall, $malformed) = score_top10($exact, glove_top10($primary, $settings, $op), $params{forbidden});
	is_deeply($malformed, [], "$name: 10 distinct rows per query, in distance order"
		  . ($params{forbidden} ? ', no deleted row' : ''));
	my $key = "${name}_$probes";
	cmp_ok($recall, '>=', $floor{$key}, sprintf("%s: recall\@10 at %d probes is %.4f (floor %.3f)",
		$name, $probes, $recall, $floor{$key}));
	return $recall;
}

# The standby's answers (ids, in order) equal the primary's.
sub compare_standby
{
	my ($stage, $op, $index) = @_;
	$primary->wait_for_catchup($standby);
	my $settings = 'SET enable_seqscan = off; SET ivfflat.probes = 4;';
	my $query = qq(SELECT q.id, array_to_string(ARRAY(SELECT i.id FROM items i ORDER BY i.v $op q.v LIMIT 10), ',')
FROM glove q WHERE $glove_query_filter ORDER BY q.id);
	ok(uses_index($standby, $settings, $query, $index), "$stage: standby plan scans $index");
	my $on_primary = $primary->safe_psql('postgres', "$settings\n$query");
	is($standby->safe_psql('postgres', "$settings\n$query"), $on_primary,
		"$stage: $index answers on the standby equal the primary's");
}

# 1. A serial build.
$primary->safe_psql('postgres', q(
SET max_parallel_maintenance_workers = 0;
CREATE INDEX items_cos ON items USING ivfflat (v vector_cosine_ops) WITH (lists = 60);
));
my $exact = exact_top10('<=>');
check_recall('build', '<=>', 'items_cos', $_, $exact) for (4, 16);
compare_standby('after build', '<=>', 'items_cos');

# Builds with parallel workers, on glove: items is below the 10,000 rows a parallel build
# needs, and glove's parallel_workers setting gives it workers despite its small size. The
# leader reports at DEBUG1 how many workers ran and how many rows they assigned.
$primary->safe_psql('postgres', 'CREATE EXTENSION pageinspect; ALTER TABLE glove SET (parallel_workers = 2)');

# Builds `name` on glove after `settings`; returns [workers, rows they assigned, all rows]
# from the leader's report, or undef when the build was serial.
sub build_glove_index
{
	my ($name, $settings) = @_;
	my ($stdout, $stderr) = ('', '');
	$primary->psql('postgres', qq(SET client_min_messages = debug1; $settings
CREATE INDEX $name ON glove USING ivfflat (v vector_cosine_ops) WITH (lists = 60);),
		stdout => \$stdout, stderr => \$stderr, on_error_die => 1);
	return $stderr =~ /ivfflat build: (\d+) parallel workers assigned (\d+) of (\d+) rows/ ? [ $1, $2, $3 ] : undef;
}

is(build_glove_index('glove_serial', 'SET max_parallel_maintenance_workers = 0;'), undef,
	'max_parallel_maintenance_workers = 0: a serial build');
my $report = build_glove_index('glove_parallel', 'SET max_parallel_maintenance_workers = 2;');
ok($report && $report->[0] >= 1 && $report->[2] == 12000,
	'max_parallel_maintenance_workers = 2: workers launched, all 12,000 rows assigned')
  or diag(explain $report);
$report = build_glove_index('glove_workers',
	'SET max_parallel_maintenance_workers = 2; SET parallel_leader_participation = off;');
ok($report && $report->[0] >= 1 && $report->[1] == 12000 && $report->[2] == 12000,
	'without the leader taking part, the workers assign all 12,000 rows')
  or diag(explain $report);

# Pages equal but for their LSN and checksum (the first 10 bytes).
for my $parallel ('glove_parallel', 'glove_workers')
{
	is( $primary->safe_psql('postgres', qq(
SELECT pg_relation_size('glove_serial') = pg_relation_size('$parallel'),
       count(*) FILTER (WHERE substr(get_raw_page('glove_serial', b), 11) <> substr(get_raw_page('$parallel', b), 11))
FROM generate_series(0, pg_relation_size('glove_serial') / 8192 - 1) b)),
		't|0', "$parallel has the pages of the serial build");
}

# Ids of the 10 nearest words to every 60th word, through `index` alone (the others dropped
# in a transaction rolled back), at `probes`.
sub glove_answers
{
	my ($index, $probes) = @_;
	my $others = join ', ', grep { $_ ne $index } qw(glove_serial glove_parallel glove_workers);
	my $query = q(SELECT q.id, ARRAY(SELECT g.id FROM glove g ORDER BY g.v <=> q.v LIMIT 10)
FROM glove q WHERE q.id % 60 = 7 ORDER BY q.id);
	my $settings = "BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL ivfflat.probes = $probes; DROP INDEX $others;";
	ok(uses_index($primary, "$settings", $query, $index), "$index at $probes probes: the plan scans it");
	return $primary->safe_psql('postgres', "$settings\n$query;\nROLLBACK;");
}

for my $probes (1, 4, 16, 60)
{
	my $serial = glove_answers('glove_serial', $probes);
	like($serial, qr/^7\|\{\d+(,\d+){9}\}$/m, "the serial build finds 10 words per query at $probes probes");
	is(glove_answers($_, $probes), $serial, "$_ answers as the serial build at $probes probes")
	  for ('glove_parallel', 'glove_workers');
}
$primary->safe_psql('postgres', 'DROP INDEX glove_serial, glove_parallel, glove_workers');

# 2. The other 3,000 words, inserted by 4 concurrent sessions.
$primary->safe_psql('postgres', 'CREATE SEQUENCE feed START 9001');
my $feed = $primary->basedir . '/feed.sql';
append_to_file($feed, "INSERT INTO items SELECT id, v FROM glove WHERE id = (SELECT nextval('feed'));\n");
$primary->command_ok([ 'pgbench', '-n', '-c', '4', '-j', '2', '-t', '750', '-f', $feed,
	'-h', $primary->host, '-p', $primary->port, 'postgres' ], 'pgbench: 3,000 inserts from 4 sessions');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM items'), '12000', 'every word inserted');
$exact = exact_top10('<=>');
check_recall('insert', '<=>', 'items_cos', $_, $exact) for (4, 16);
compare_standby('after inserts', '<=>', 'items_cos');

# 3. Delete every even id, VACUUM: recall over what is left, deleted rows never come back.
my $size_before = $primary->safe_psql('postgres', "SELECT pg_relation_size('items_cos')");
$primary->safe_psql('postgres', 'DELETE FROM items WHERE id % 2 = 0');
$primary->safe_psql('postgres', 'VACUUM items');
$exact = exact_top10('<=>');
check_recall('vacuum', '<=>', 'items_cos', $_, $exact, forbidden => sub { $_[0] % 2 == 0 }) for (4, 16);
compare_standby('after delete and VACUUM', '<=>', 'items_cos');
# The deleted words again, under new ids: they fill the space VACUUM freed.
$primary->safe_psql('postgres', 'INSERT INTO items SELECT id + 100000, v FROM glove WHERE id % 2 = 0');
is($primary->safe_psql('postgres', "SELECT pg_relation_size('items_cos')"), $size_before,
	'rows inserted after VACUUM reuse the freed space: the index did not grow');

# 4. Concurrent inserts, deletes, scans and VACUUM: no error, and afterwards each row is its
# own nearest neighbour when every list is probed.
my %scripts = (
	'insert.sql' => "\\set id random(1, 12000)\nINSERT INTO items SELECT id + 200000 + (random() * 1e6)::int, v FROM glove WHERE id = :id ON CONFLICT DO NOTHING;\n",
	'delete.sql' => "\\set id random(1, 12000)\nDELETE FROM items WHERE id = (SELECT id FROM items WHERE id >= :id ORDER BY id LIMIT 1);\n",
	'select.sql' => "\\set id random(1, 12000)\nSELECT i.id FROM items i, glove q WHERE q.id = :id ORDER BY i.v <=> q.v LIMIT 10;\n");
my @files;
for my $name (sort keys %scripts)
{
	my $file = $primary->basedir . "/$name";
	append_to_file($file, $scripts{$name});
	push @files, '-f', "$file\@" . ($name eq 'select.sql' ? 4 : 2);
}
my ($bench_out, $bench_err) = ('', '');
my $bench = IPC::Run::start(
	[ 'pgbench', '-n', '-c', '4', '-j', '2', '-T', '8', @files, '-h', $primary->host, '-p', $primary->port,
		'postgres' ],
	'>', \$bench_out, '2>', \$bench_err);
for (1 .. 4)
{
	$primary->safe_psql('postgres', 'VACUUM items');
	sleep 1;
}
$bench->finish;
is($bench->result(0), 0, 'concurrent inserts, deletes and scans while VACUUM runs: no client error')
  or diag($bench_err);
like($bench_out, qr/number of failed transactions: 0/, 'pgbench reports no failed transaction');
$primary->safe_psql('postgres', 'VACUUM items');
my $lost = $primary->safe_psql('postgres', q(
SET enable_seqscan = off; SET ivfflat.probes = 60;
SELECT count(*) FROM items t
WHERE (SELECT u.v <=> t.v FROM items u ORDER BY u.v <=> t.v LIMIT 1) > 1e-6;
));
is($lost, '0', 'after the concurrent workload every row is found at distance 0 through the index');
my ($check_ret, $check_out, $check_err) = $primary->psql('postgres',
	"SELECT count FROM ann_index_check('items_cos') WHERE item = 'heap TIDs'");
is($check_out, $primary->safe_psql('postgres', 'SELECT count(*) FROM items'),
	'after the concurrent workload ann_index_check finds no damage and every row') or diag($check_err);
compare_standby('after the concurrent workload', '<=>', 'items_cos');

# 5. The l2 class on the same rows.
$primary->safe_psql('postgres', q(
TRUNCATE items;
INSERT INTO items SELECT id, v FROM glove;
DROP INDEX items_cos;
CREATE INDEX items_l2 ON items USING ivfflat (v vector_l2_ops) WITH (lists = 60);
));
is($primary->safe_psql('postgres', 'SELECT count(*) FROM items'), '12000', 'the 12,000 words again');
$exact = exact_top10('<->');
check_recall('l2', '<->', 'items_l2', $_, $exact) for (4, 16);
compare_standby('l2 index', '<->', 'items_l2');

# 6. An unlogged index: empty after a crash (restored from its init fork), then usable.
$primary->safe_psql('postgres', q(
CREATE UNLOGGED TABLE scratch (id int, v vector(100));
INSERT INTO scratch SELECT id, v FROM glove WHERE id <= 500;
CREATE INDEX scratch_cos ON scratch USING ivfflat (v vector_cosine_ops) WITH (lists = 10);
));
$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', 'SELECT count(*) FROM scratch'), '0', 'unlogged table empty after a crash');
$primary->safe_psql('postgres', 'INSERT INTO scratch SELECT id, v FROM glove WHERE id <= 300');
is( $primary->safe_psql('postgres', q(
SET enable_seqscan = off; SET ivfflat.probes = 10;
SELECT count(*) FROM scratch t
WHERE (SELECT u.v <=> t.v FROM scratch u ORDER BY u.v <=> t.v LIMIT 1) > 1e-6;
)), '0', 'the unlogged index, reset from its init fork, finds every new row');

# The crash above makes the standby's reconnection attempts show up as FATALs.
my @problems = server_log_problems($primary, $log_start{primary},
	qr/the database system is (shutting down|not yet accepting connections|starting up|in recovery mode)/);
is_deeply(\@problems, [], 'no errors in the primary log');
@problems = server_log_problems($standby, $log_start{standby},
	qr/terminating walreceiver|could not receive data from WAL stream|connection to the primary|FATAL:  could not connect/);
is_deeply(\@problems, [], 'no unexpected errors in the standby log');

$standby->stop;
$primary->stop;
done_testing();
