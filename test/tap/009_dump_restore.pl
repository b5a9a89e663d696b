# pg_dump and restore of a database that uses ann: vector columns with and without typmods,
# NULLs, hnsw indexes with options on every operator class (and an ivfflat index when the
# installed extension has that access method). The database is dumped as plain SQL (restored
# with psql) and in the custom format (restored with pg_restore --jobs=2) into fresh
# databases. Each restored database must hold the same rows and column types, the same
# index definitions, valid indexes that hold every row, and give the same answers through
# each index and exactly.
# Memory: the plain restore builds with maintenance_work_mem = 16MB, where every graph fits;
# the custom restore with 1MB, where the larger graphs do not, so their builds insert the
# remaining rows one by one (the NOTICE says so; the restore sessions log notices to the
# server log, since pg_restore shows them only with --verbose): those graphs differ from
# the source's, so their answers must reach a recall floor against the exact ones instead.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/lib";

use AnnTap;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $rows = 6000;
my $dim = 32;
my $node = ann_node('dump');
$node->start;
my $log_start = log_position($node);

$node->safe_psql('postgres', 'CREATE DATABASE source');
$node->safe_psql('source', 'CREATE EXTENSION ann');
my $has_ivfflat = $node->safe_psql('source', "SELECT count(*) FROM pg_am WHERE amname = 'ivfflat'");

# setseed makes the data, and with it every graph (levels depend on the heap order only),
# the same on every run.
$node->safe_psql(
	'source', qq(
SELECT setseed(0.25);
CREATE TABLE items (id int PRIMARY KEY, small vector(3), wide vector($dim), note text);
INSERT INTO items
SELECT g,
       CASE WHEN g % 89 = 0 THEN NULL ELSE @{[ random_vector_sql(3, 'g') ]} END,
       CASE WHEN g % 97 = 0 THEN NULL ELSE @{[ random_vector_sql($dim, 'g') ]} END,
       'row ' || g
FROM generate_series(1, $rows) g;
CREATE TABLE mixed (id int PRIMARY KEY, v vector);
INSERT INTO mixed VALUES (1, '[1,2,3]'), (2, '[1.5e-7,-2,3e30,4]'), (3, NULL), (4, '[0]');
CREATE INDEX items_wide_l2 ON items USING hnsw (wide vector_l2_ops) WITH (m = 8, ef_construction = 40);
CREATE INDEX items_wide_cosine ON items USING hnsw (wide vector_cosine_ops) WITH (m = 12, ef_construction = 64);
CREATE INDEX items_small_ip ON items USING hnsw (small vector_ip_ops) WITH (m = 4, ef_construction = 16);
CREATE INDEX items_small_l1 ON items USING hnsw (small vector_l1_ops);
));

# [index, column, operator, search setting]
my @indexes = (
	[ 'items_wide_l2', 'wide', '<->', 'SET hnsw.ef_search = 100' ],
	[ 'items_wide_cosine', 'wide', '<=>', 'SET hnsw.ef_search = 100' ],
	[ 'items_small_ip', 'small', '<#>', 'SET hnsw.ef_search = 100' ],
	[ 'items_small_l1', 'small', '<+>', 'SET hnsw.ef_search = 100' ]);
my @hnsw_indexes = map { $_->[0] } @indexes;
if ($has_ivfflat)
{
	$node->safe_psql('source',
		'CREATE INDEX items_wide_ip_ivfflat ON items USING ivfflat (wide vector_ip_ops) WITH (lists = 20)');
	# Every list: the custom restore samples fewer rows for k-means (1MB), so its centres,
	# and what a partial probe finds, differ from the source's.
	push @indexes, [ 'items_wide_ip_ivfflat', 'wide', '<#>', 'SET ivfflat.probes = 20' ];
}
else
{
	note('the installed extension has no ivfflat access method: its dump and restore is not tested');
}

# Query vectors: three stored rows and two vectors no row has.
srand(5);
my %queries;
for my $column ('small', 'wide')
{
	my $width = $column eq 'small' ? 3 : $dim;
	$queries{$column} = [
		split(/\n/, $node->safe_psql('source', "SELECT $column FROM items WHERE id IN (11, 2222, 5555) ORDER BY id")),
		map { '[' . join(',', map { sprintf '%.4f', rand(2) - 1 } 1 .. $width) . ']' } 1 .. 2 ];
}

# Everything the answers are compared on: one string per check name.
sub snapshot
{
	my ($db) = @_;
	my %answers;
	$answers{'all rows'} = $node->safe_psql($db, q(
SELECT md5(string_agg(id || '|' || coalesce(small::text, 'NULL') || '|' || coalesce(wide::text, 'NULL') || '|' || note, ';' ORDER BY id)),
       count(*), count(small), count(wide) FROM items));
	$answers{'rows of an untyped vector column'} = $node->safe_psql($db, 'SELECT id, v FROM mixed ORDER BY id');
	$answers{'column types'} = $node->safe_psql($db, q(
SELECT attrelid::regclass, attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid IN ('items'::regclass, 'mixed'::regclass) AND attnum > 0 ORDER BY 1, attnum));
	$answers{'index definitions'} = $node->safe_psql($db, q(
SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = 'items'::regclass ORDER BY indexrelid::regclass::text));
	$answers{'exact lookups and aggregates'} = $node->safe_psql($db, qq(
SELECT id FROM items WHERE small = (SELECT small FROM items WHERE id = 42);
SELECT avg(small), sum(wide)::text FROM items;
SELECT count(*) FROM items WHERE wide <-> '$queries{wide}[0]' < 3;));
	for my $index (@indexes)
	{
		my ($name, $column, $op, $settings) = @$index;
		my (@plans, @answers, @exact);
		for my $query (@{ $queries{$column} })
		{
			my $sql = qq(SELECT id, $column $op '$query' FROM items ORDER BY $column $op '$query' LIMIT 10);
			my $plan = $node->safe_psql($db, "SET enable_seqscan = off; EXPLAIN (COSTS OFF) $sql");
			push @plans, $plan =~ /Index Scan using $name on items/ ? 'uses the index' : $plan;
			push @answers, $node->safe_psql($db, "SET enable_seqscan = off; $settings; $sql");
			push @exact, $node->safe_psql($db, "SET enable_indexscan = off; SET enable_bitmapscan = off; $sql");
		}
		$answers{"plans of the $name queries"} = join("\n", @plans);
		$answers{"answers through $name"} = join("\n--\n", @answers);
		$answers{"exact answers to the $name queries"} = join("\n--\n", @exact);
	}
	return \%answers;
}

sub index_health
{
	my ($db) = @_;
	my $invalid = $node->safe_psql($db, q(
SELECT string_agg(indexrelid::regclass::text, ', ') FROM pg_index
WHERE indrelid = 'items'::regclass AND NOT (indisvalid AND indisready AND indislive)));
	my %missing;
	for my $name (@hnsw_indexes)
	{
		my ($column) = map { $_->[1] } grep { $_->[0] eq $name } @indexes;
		$missing{$name} = $node->safe_psql($db, qq(
SELECT (SELECT count($column) FROM items) - count FROM ann_index_check('$name') WHERE item = 'heap TIDs'));
	}
	return ($invalid, \%missing);
}

my $source = snapshot('source');
# Comparisons with the source mean something only if its queries scan the indexes and answer.
for my $index (@indexes)
{
	my ($name, $column) = @$index;
	my $queries = @{ $queries{$column} };
	is($source->{"plans of the $name queries"}, join("\n", ('uses the index') x $queries), "source: the $name queries scan it");
	is(scalar(() = $source->{"answers through $name"} =~ /^\d+\|/mg), 10 * $queries, "source: $name returns 10 rows per query");
}
my $dump_dir = PostgreSQL::Test::Utils::tempdir;

# Fraction of the exact answers' rows that the index answers hold, over all queries: each
# argument is the queries' "id|distance" lines, the queries separated by "--" lines.
sub recall
{
	my ($answers, $exact) = @_;
	my @got = split(/\n--\n/, $answers);
	my @want = split(/\n--\n/, $exact);
	my ($hits, $total) = (0, 0);
	for my $i (0 .. $#want)
	{
		my %found = map { (split /\|/)[0] => 1 } split(/\n/, $got[$i] // '');
		for my $row (split(/\n/, $want[$i]))
		{
			$total++;
			$hits++ if $found{ (split /\|/, $row)[0] };
		}
	}
	return $total ? $hits / $total : 0;
}

# A restore whose graphs were built another way (rows inserted one by one past the memory
# limit) holds other graphs, whose approximate answers may differ from the source's in a
# row now and then: for those, the answers through each index must reach a recall floor
# against the exact answers instead of matching the source's.
sub compare_with_source
{
	my ($db, $other_graphs) = @_;
	my $restored = snapshot($db);
	for my $check (sort keys %$source)
	{
		if ($other_graphs && $check =~ /^answers through (\S+)$/)
		{
			my $exact = $restored->{"exact answers to the $1 queries"};
			cmp_ok(recall($restored->{$check}, $exact), '>=', 0.9, "$db: $check reach recall 0.9");
			next;
		}
		is($restored->{$check}, $source->{$check}, "$db: $check as in the source database");
	}
	my ($invalid, $missing) = index_health($db);
	is($invalid, '', "$db: every index is valid");
	for my $name (sort keys %$missing)
	{
		is($missing->{$name}, '0', "$db: $name holds every row with a vector");
	}
}

sub build_notices
{
	my ($position) = @_;
	my $log = slurp_file($node->logfile, $position);
	return scalar(() = $log =~ /hnsw graph no longer fits into maintenance_work_mem/g);
}

my $restore_options = '-c log_min_messages=notice -c maintenance_work_mem=';

# Plain SQL, restored with psql.
my $plain = "$dump_dir/source.sql";
command_ok([ 'pg_dump', '-Fp', '-d', $node->connstr('source'), '-f', $plain ], 'pg_dump -Fp');
$node->safe_psql('postgres', 'CREATE DATABASE restored_plain');
{
	local $ENV{PGOPTIONS} = "${restore_options}16MB";
	my $log_position = log_position($node);
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored_plain'), '-f', $plain ],
		'>', \$stdout, '2>', \$stderr);
	ok($ok, 'psql restores the plain dump with maintenance_work_mem = 16MB') or diag($stderr);
	is(build_notices($log_position), 0, 'every hnsw graph of the plain restore fits in 16MB');
}
compare_with_source('restored_plain');

# Custom format, restored by pg_restore with two jobs (indexes are built in parallel sessions).
my $custom = "$dump_dir/source.dump";
command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('source'), '-f', $custom ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE restored_custom');
{
	local $ENV{PGOPTIONS} = "${restore_options}1MB";
	my $log_position = log_position($node);
	my ($stdout, $stderr);
	my $ok = IPC::Run::run([ 'pg_restore', '--jobs=2', '--exit-on-error', '-d', $node->connstr('restored_custom'), $custom ],
		'>', \$stdout, '2>', \$stderr);
	ok($ok, 'pg_restore --jobs=2 restores the custom dump with maintenance_work_mem = 1MB') or diag($stderr);
	my $notices = build_notices($log_position);
	cmp_ok($notices, '>=', 1, "with 1MB, $notices hnsw builds insert the rows that do not fit one by one");
}
compare_with_source('restored_custom', 1);

is(join("\n", server_log_problems($node, $log_start)), '', 'no errors or crashes in the server log');

$node->stop;
done_testing();
