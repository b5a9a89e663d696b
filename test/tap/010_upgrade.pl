# Extension upgrades: a database that installed ann 0.1.0 and ran ALTER EXTENSION ann UPDATE
# has exactly the objects, function definitions and privileges of a fresh install of the
# current version, and its existing index keeps answering as before.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use AnnTap;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = ann_node('upgrade');
$node->start;
my $current = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'ann'");
isnt($current, '0.1.0', "the current version ($current) is newer than 0.1.0");

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('fresh', 'CREATE EXTENSION ann');
$node->safe_psql('upgraded', "CREATE EXTENSION ann VERSION '0.1.0'");
is($node->safe_psql('upgraded', "SELECT extversion FROM pg_extension WHERE extname = 'ann'"),
	'0.1.0', 'version 0.1.0 installs');

my $query = "SELECT string_agg(id::text, ',' ORDER BY d, id) FROM "
  . "(SELECT id, v <-> '[0.5,0.5,0.5,0.5]' AS d FROM items ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 10) s";
my $settings = 'SET enable_seqscan = off; SET hnsw.ef_search = 100;';
$node->safe_psql(
	'upgraded', qq(
CREATE TABLE items (id int PRIMARY KEY, v vector(4));
INSERT INTO items SELECT i, ARRAY[sin(i), cos(i), sin(i * 0.3), cos(i * 0.7)]::real[]::vector
FROM generate_series(1, 2000) i;
CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops);
));
my $before = $node->safe_psql('upgraded', "$settings $query");

$node->safe_psql('upgraded', 'ALTER EXTENSION ann UPDATE');
is($node->safe_psql('upgraded', "SELECT extversion FROM pg_extension WHERE extname = 'ann'"),
	$current, "ALTER EXTENSION ann UPDATE reaches $current");

# What the extension owns, and each function's definition and privileges.
my %catalog = (
	'objects' => q(
SELECT pg_describe_object(classid, objid, objsubid) || ' ' || deptype::text FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'ann') ORDER BY 1),
	'functions' => q(
SELECT p.oid::regprocedure::text || ' ' || md5(concat_ws('|', p.prosrc, p.probin, p.prokind,
  p.provolatile, p.proparallel, p.proisstrict, p.prorettype::regtype::text, p.proacl::text))
FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' ORDER BY 1),
	'operator classes' => q(
SELECT c.opcname || ' ' || a.amname || ' ' || c.opcdefault || ' ' ||
  (SELECT string_agg(p.amprocnum || ':' || p.amproc::regprocedure::text, ',' ORDER BY p.amprocnum)
   FROM pg_amproc p WHERE p.amprocfamily = c.opcfamily)
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE c.opcintype = 'vector'::regtype ORDER BY 1));
for my $what (sort keys %catalog)
{
	my $fresh = $node->safe_psql('fresh', $catalog{$what});
	my $upgraded = $node->safe_psql('upgraded', $catalog{$what});
	cmp_ok(scalar(split /\n/, $fresh), '>', 0, "a fresh install has $what");
	is($upgraded, $fresh, "$what after the upgrade equal a fresh install's");
}

is($node->safe_psql('upgraded', "$settings $query"), $before, 'the index built under 0.1.0 answers as before');
my ($ret, $out, $err) = $node->psql('upgraded', "SELECT count FROM ann_index_check('items_v') WHERE item = 'heap TIDs'");
is($out, '2000', 'ann_index_check (new in 0.2.0) checks the index built under 0.1.0') or diag($err);
$node->safe_psql('upgraded', 'CREATE INDEX items_ivf ON items USING ivfflat (v vector_l2_ops) WITH (lists = 10)');
is($node->safe_psql('upgraded', "SET enable_seqscan = off; SET ivfflat.probes = 10; $query"),
	$node->safe_psql('upgraded', "SET enable_indexscan = off; $query"),
	'an ivfflat index (new in 0.2.0) works after the upgrade, exact with every list probed');

$node->stop;
done_testing();
