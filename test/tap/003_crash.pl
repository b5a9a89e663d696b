# Crash recovery of hnsw and ivfflat indexes:
#   A. immediate stop (no shutdown checkpoint) while single-row inserts, deletes and VACUUM
#      run against a table with an hnsw and an ivfflat index: every acknowledged insert
#      survives and every row is found through each index as its own nearest neighbour;
#      the recovered indexes take more inserts and VACUUM;
#   B. crash right after CREATE INDEX, with the index files emptied on disk as if none of
#      the build's pages had been written: the WAL (log_newpage_range) restores them;
#   C. an unlogged table's hnsw index made just before a crash comes back empty and usable
#      (from its init fork);
#   D. a backend killed with SIGKILL in the middle of inserts: the server restarts itself,
#      replays the WAL, and both indexes answer as before.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/lib";

use AnnTap;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = ann_node(
	'crash',
	allows_streaming => 1,    # wal_level = replica: every relation is WAL-logged
	# The test framework turns restart_after_crash off; D needs the server's own restart.
	conf => "checkpoint_timeout = 1h\nmax_wal_size = 1GB\nrestart_after_crash = on\n");
$node->start;
my $log_start = log_position($node);
$node->safe_psql('postgres', 'CREATE EXTENSION ann');
# Self-matches through ivfflat search every list, so they test the index's contents.
$node->safe_psql('postgres', 'ALTER DATABASE postgres SET ivfflat.probes = 1000');

sub check_self_match
{
	my ($stage, $table, $op, $index, $expected_count) = @_;
	my ($count, $failed) = self_match_failures($node, $table, $op, $index);
	is_deeply($failed, [], "$stage: every row of $table is its own nearest neighbour through $index");
	if (defined $expected_count)
	{
		is($count, $expected_count, "$stage: $index checked on all $expected_count rows");
	}
	else
	{
		cmp_ok($count // 0, '>', 0, "$stage: $index checked on " . ($count // 0) . ' rows');
	}
}

# --- A. crash during inserts, deletes and VACUUM -------------------------------------------
my $dim = 16;
$node->safe_psql(
	'postgres', qq(
CREATE TABLE t (id bigserial PRIMARY KEY, v vector($dim));
INSERT INTO t (v) SELECT @{[ random_vector_sql($dim, 'g') ]} FROM generate_series(1, 2000) g;
CREATE INDEX t_ivf ON t USING ivfflat (v vector_l2_ops) WITH (lists = 20);
CREATE INDEX t_cos ON t USING hnsw (v vector_cosine_ops) WITH (m = 8, ef_construction = 32);
));

my $insert_file = $node->basedir . '/inserts.sql';
append_to_file($insert_file,
	join('', map { "INSERT INTO t (v) SELECT @{[ random_vector_sql($dim) ]} RETURNING id;\n" } 1 .. 20000));
my $vacuum_file = $node->basedir . '/vacuum.sql';
append_to_file($vacuum_file,
	join('', map { "DELETE FROM t WHERE id IN (SELECT id FROM t WHERE id % 3 = 0 ORDER BY random() LIMIT 10);\nVACUUM t;\n" } 1 .. 2000));

my @psql = ('psql', '-X', '-A', '-t', '-q', '-h', $node->host, '-p', $node->port, '-d', 'postgres');
my ($insert_out, $insert_err, $vacuum_out, $vacuum_err) = ('', '', '', '');
my $inserter = IPC::Run::start([ @psql, '-f', $insert_file ],
	'>', \$insert_out, '2>', \$insert_err, IPC::Run::timeout(300));
my $vacuumer = IPC::Run::start([ @psql, '-f', $vacuum_file ],
	'>', \$vacuum_out, '2>', \$vacuum_err, IPC::Run::timeout(300));

ok( $node->poll_query_until(
		'postgres', q(
SELECT (SELECT count(*) >= 1500 FROM t WHERE id > 2000)
   AND (SELECT vacuum_count >= 3 FROM pg_stat_user_tables WHERE relname = 't'))),
	'workload running: 1,500 rows inserted and 3 VACUUMs done');
$node->stop('immediate');
$inserter->finish;
$vacuumer->finish;
like($insert_err, qr/connection to server was lost|server closed the connection/,
	'the inserting session was cut off by the crash');

$node->start;
# (The other session deletes ids divisible by 3.)
my @acknowledged = grep { /^\d+$/ } split /\n/, $insert_out;
my @kept = grep { $_ % 3 != 0 } @acknowledged;
cmp_ok(scalar(@acknowledged), '>=', 1000, scalar(@acknowledged) . ' inserts acknowledged before the crash');
my $missing = $node->safe_psql('postgres',
	'SELECT count(*) FROM unnest(ARRAY[' . join(',', @kept, 0) . ']::bigint[]) a(id)'
	  . ' WHERE a.id > 0 AND NOT EXISTS (SELECT FROM t WHERE t.id = a.id)');
is($missing, '0', 'every acknowledged insert (not deleted since) survived the crash');
check_self_match('after the crash', 't', '<->', 't_ivf');
check_self_match('after the crash', 't', '<=>', 't_cos');

# The recovered indexes keep working: VACUUM, then more rows.
$node->safe_psql('postgres', 'DELETE FROM t WHERE id % 7 = 0');
$node->safe_psql('postgres', 'VACUUM t');
$node->safe_psql('postgres',
	"INSERT INTO t (v) SELECT @{[ random_vector_sql($dim, 'g') ]} FROM generate_series(1, 500) g");
my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
check_self_match('after VACUUM and inserts on the recovered index', 't', '<->', 't_ivf', $rows);
check_self_match('after VACUUM and inserts on the recovered index', 't', '<=>', 't_cos', $rows);

# --- B. crash right after a build, before any checkpoint ------------------------------------
$node->safe_psql(
	'postgres', qq(
CREATE TABLE b (id bigserial PRIMARY KEY, v vector(32));
INSERT INTO b (v) SELECT @{[ random_vector_sql(32, 'g') ]} FROM generate_series(1, 3000) g;
CREATE TABLE bi AS SELECT * FROM b;
CREATE UNLOGGED TABLE u (id bigserial PRIMARY KEY, v vector(32));
INSERT INTO u (v) SELECT @{[ random_vector_sql(32, 'g') ]} FROM generate_series(1, 300) g;
CHECKPOINT;
));
my $before_build = $node->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
$node->safe_psql(
	'postgres', q(
CREATE INDEX b_l2 ON b USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX b_cos ON b USING hnsw (v vector_cosine_ops) WITH (m = 12, ef_construction = 40);
CREATE INDEX bi_l2 ON bi USING ivfflat (v vector_l2_ops) WITH (lists = 30);
CREATE INDEX u_l2 ON u USING hnsw (v vector_l2_ops);
));
is( $node->safe_psql(
		'postgres', "SELECT redo_lsn < '$before_build'::pg_lsn FROM pg_control_checkpoint()"),
	't', 'no checkpoint since the builds began: recovery replays them');
my @index_files = map { $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('$_')") }
  qw(b_l2 b_cos bi_l2);
$node->stop('immediate');

# As if no page of the new indexes had reached the disk before the crash.
for my $file (@index_files)
{
	truncate($file, 0) or die "truncate $file: $!";
}
$node->start;
check_self_match('build then crash', 'b', '<->', 'b_l2', 3000);
check_self_match('build then crash', 'b', '<=>', 'b_cos', 3000);
check_self_match('build then crash', 'bi', '<->', 'bi_l2', 3000);
$node->safe_psql('postgres',
	"INSERT INTO b (v) SELECT @{[ random_vector_sql(32, 'g') ]} FROM generate_series(1, 300) g");
check_self_match('build then crash, then inserts', 'b', '<->', 'b_l2', 3300);
check_self_match('build then crash, then inserts', 'b', '<=>', 'b_cos', 3300);

# --- C. the unlogged table: emptied by the crash, its index reset from the init fork ---------
is($node->safe_psql('postgres', 'SELECT count(*) FROM u'), '0', 'unlogged table is empty after the crash');
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"INSERT INTO u (v) SELECT @{[ random_vector_sql(32, 'g') ]} FROM generate_series(1, 200) g");
is($ret, 0, 'rows can be inserted into the unlogged table after the crash') or diag($stderr);
check_self_match('unlogged table after the crash', 'u', '<->', 'u_l2', 200);

# --- D. a backend killed mid-write: the server restarts and replays ---------------------------
my $killed_file = $node->basedir . '/killed_inserts.sql';
append_to_file($killed_file,
	join('', map { "INSERT INTO t (v) SELECT @{[ random_vector_sql($dim) ]};\n" } 1 .. 20000));
my ($killed_out, $killed_err) = ('', '');
my $killed = IPC::Run::start([ @psql, '-v', 'ON_ERROR_STOP=1', '-f', $killed_file ],
	'>', \$killed_out, '2>', \$killed_err, IPC::Run::timeout(300));
my $rows_before = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
ok($node->poll_query_until('postgres', "SELECT count(*) >= $rows_before + 500 FROM t"),
	'inserts running in the backend to be killed');
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO t %' AND pid <> pg_backend_pid()");
like($pid, qr/^\d+$/, "the inserting backend is $pid");
kill 'KILL', $pid;
$killed->finish;
ok($node->poll_query_until('postgres', 'SELECT true', 't'), 'the server restarted after the backend was killed');
like(slurp_file($node->logfile, $log_start),
	qr/server process \(PID $pid\) was terminated by signal 9/, 'the postmaster saw the kill and reinitialised');
$rows = $node->safe_psql('postgres', 'SELECT count(*) FROM t');
check_self_match('after a backend was killed', 't', '<->', 't_ivf', $rows);
check_self_match('after a backend was killed', 't', '<=>', 't_cos', $rows);

# The recovered indexes pass the structural check.
for my $index (qw(t_ivf t_cos b_l2 b_cos bi_l2 u_l2))
{
	($ret, $stdout, $stderr) = $node->psql('postgres', "SELECT item || ' ' || count FROM ann_index_check('$index')");
	is($ret, 0, "ann_index_check finds no damage in $index after recovery") or diag($stderr);
	note("$index: " . join(', ', split /\n/, $stdout));
}

# Besides what the kill itself logs (the backend's signal, sessions cut off, connections
# refused while the server recovered).
my @problems = server_log_problems($node, $log_start,
	qr/\(PID $pid\) was terminated by signal 9|terminating any other active server processes|the database system is (in recovery mode|not yet accepting connections|starting up)|ERROR:  .*(canceling|terminating)/);
is_deeply(\@problems, [], 'no other errors in the server log');

$node->stop;
done_testing();
