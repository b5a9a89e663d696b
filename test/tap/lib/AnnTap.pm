# Helpers shared by the TAP tests: test clusters with the extension, random vectors in SQL,
# self-match checks through an index, recall of GloVe queries and server log checks.
package AnnTap;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

our @EXPORT = qw(ann_node load_glove random_vector_sql uses_index self_match_failures
  log_position server_log_problems glove_file
  $glove_query_filter glove_top10_query glove_top10 score_top10);

my $started = time;

END
{
	note(sprintf("%s ran for %.1f s", $0, time - $started));
}

# A new cluster (not started). allows_streaming => 1 also gives wal_level = replica, which
# the crash tests want (wal_level = minimal skips WAL for relations made in the
# transaction). conf => extra postgresql.conf lines. Autovacuum is off: a background VACUUM
# would change a primary's index while its standby is compared with it, and the tests run
# VACUUM themselves.
sub ann_node
{
	my ($name, %params) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => $params{allows_streaming} // 0);
	# Cluster.pm's streaming defaults (1MB shared_buffers, 10 connections) are too small.
	$node->append_conf(
		'postgresql.conf', qq(
shared_buffers = 128MB
max_connections = 20
maintenance_work_mem = 256MB
log_statement = none
log_checkpoints = off
autovacuum = off
));
	$node->append_conf('postgresql.conf', $params{conf}) if $params{conf};
	return $node;
}

# SQL for a random vector of `dim` dimensions with elements in [-1, 1). `outer` names a column
# of the surrounding query: the subquery then refers to it, so it is run once per row
# instead of once per statement.
sub random_vector_sql
{
	my ($dim, $outer) = @_;
	my $correlate = defined $outer ? "WHERE $outer IS NOT NULL" : '';
	return "(SELECT array_agg((random() * 2 - 1)::real) FROM generate_series(1, $dim) $correlate)::vector";
}

# True when the plan of `query` (after the `settings` statements) scans `index`.
sub uses_index
{
	my ($node, $settings, $query, $index) = @_;
	my $plan = $node->safe_psql('postgres', "$settings\nEXPLAIN (COSTS OFF) $query");
	return $plan =~ /Index Scan using \Q$index\E /;
}

# Rows of `table` that an index scan does not find as their own nearest neighbour (at
# distance ~0 through `op`). A graph search is approximate: a row missed at ef_search
# (default 100) is searched again at the widest setting, 1000, and only rows missed there
# too count, since those the graph cannot reach at all (a broken or orphaned element).
# Returns (number of rows checked, [ids that failed], number missed at ef_search); when the
# plan does not scan `index` or the query fails, the list holds that message instead.
sub self_match_failures
{
	my ($node, $table, $op, $index, %params) = @_;
	my $ef = $params{ef_search} // 100;
	my $where = $params{where} ? "WHERE $params{where}" : '';
	my ($count, $missed) = _self_match_misses($node, $table, $op, $index, $ef, $where);
	return ($count, $missed) unless defined $count;
	return ($count, [], 0) unless @$missed;
	my (undef, $failed) = _self_match_misses($node, $table, $op, $index, 1000,
		'WHERE t.id IN (' . join(',', @$missed) . ')');
	return ($count, $failed, scalar @$missed);
}

sub _self_match_misses
{
	my ($node, $table, $op, $index, $ef, $where) = @_;
	my $settings = "SET enable_seqscan = off; SET enable_bitmapscan = off; SET hnsw.ef_search = $ef;";
	my $query = qq(
SELECT t.id, s.d FROM $table t CROSS JOIN LATERAL
  (SELECT u.v $op t.v AS d FROM $table u ORDER BY u.v $op t.v LIMIT 1) s $where);
	my ($ret, $plan, $stderr) = $node->psql('postgres', "$settings\nEXPLAIN (COSTS OFF) $query");
	return (undef, ["EXPLAIN failed: $stderr"]) if $ret != 0;
	return (undef, ["the self-match plan does not scan $index:\n$plan"])
	  unless $plan =~ /Index Scan using \Q$index\E /;
	($ret, my $out, $stderr) = $node->psql('postgres', qq($settings
SELECT count(*) FROM $table t $where;
SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM ($query) r WHERE d IS NULL OR abs(d) > 1e-6;));
	return (undef, ["self-match query failed: $stderr"]) if $ret != 0;
	my ($count, $failed) = split /\n/, $out, 2;
	$failed //= '';
	return ($count, [ grep { length } split /,/, $failed =~ s/\s+//gr ]);
}

# Current size of the server log, to check only what is logged after this point.
sub log_position
{
	my ($node) = @_;
	return -s $node->logfile // 0;
}

# Server log lines since `position` reporting errors, crashes or assertion failures,
# except those matching `expected` (a regexp or undef).
sub server_log_problems
{
	my ($node, $position, $expected) = @_;
	my $log = slurp_file($node->logfile);
	$log = substr($log, $position) if $position;
	my @problems = grep {
		/\b(ERROR|PANIC|FATAL)\b|terminated by signal|TRAP:|was terminated/
		  && !(defined $expected && /$expected/)
	} split /\n/, $log;
	return @problems;
}

# The GloVe sample (12,000 words, `word<TAB>[100 floats]`, gzip), readable by the server.
sub glove_file
{
	my $file = $ENV{ANN_TAP_GLOVE};
	BAIL_OUT('ANN_TAP_GLOVE does not name the GloVe sample (run the tests with test/tap/run.sh)')
	  unless defined $file && -r $file;
	return $file;
}

# Loads the GloVe sample into table glove (id 1..12000, word, v vector(100)).
sub load_glove
{
	my ($node) = @_;
	my $file = glove_file();
	$node->safe_psql(
		'postgres', qq(
CREATE TABLE glove (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, word text NOT NULL, v vector(100) NOT NULL);
COPY glove (word, v) FROM PROGRAM 'gzip -dc $file';
));
}

# The 200 GloVe query words of the recall tests: ids 7, 67, ..., 11947 of table glove.
our $glove_query_filter = 'q.id % 60 = 7';

# For every query word, "id:distance" of the first 10 rows of table items in the order the
# plan produces; `filter` (optional) is a WHERE clause on items i that may refer to the
# query word q.
sub glove_top10_query
{
	my ($op, $filter) = @_;
	my $where = defined $filter ? "WHERE $filter" : '';
	return qq(SELECT q.id, array_to_string(ARRAY(
    SELECT i.id || ':' || (i.v $op q.v)::text FROM items i $where ORDER BY i.v $op q.v LIMIT 10), ',')
FROM glove q WHERE $glove_query_filter ORDER BY q.id);
}

# The answers of glove_top10_query after `settings`: query id => [[id, distance], ...].
sub glove_top10
{
	my ($node, $settings, $op, $filter) = @_;
	my $out = $node->safe_psql('postgres', "$settings\n" . glove_top10_query($op, $filter));
	my %top;
	for my $line (split /\n/, $out)
	{
		my ($query, $list) = split /\|/, $line, 2;
		$top{$query} = [ map { [ split /:/ ] } grep { length } split /,/, $list ];
	}
	return \%top;
}

# Recall@10 of `got` against `exact` (glove_top10 answers; a row no farther than the 10th
# exact one counts, so ties are not misses) and what is wrong with `got`: 10 rows per query,
# no row twice, nondecreasing true distance (a row whose heap slot was reused by another
# vector would break the order), no id for which `forbidden` (optional) is true.
sub score_top10
{
	my ($exact, $got, $forbidden) = @_;
	my ($hits, $total) = (0, 0);
	my @malformed;
	for my $query (sort { $a <=> $b } keys %$exact)
	{
		my @want = @{ $exact->{$query} };
		my @have = @{ $got->{$query} // [] };
		my $kth = $want[-1][1];
		my %seen;
		my $previous = -1e300;
		for my $row (@have)
		{
			my ($id, $distance) = @$row;
			push @malformed, "query $query: id $id twice" if $seen{$id}++;
			push @malformed, "query $query: id $id at $distance after $previous"
			  if $distance < $previous - 1e-5;
			push @malformed, "query $query: deleted id $id returned"
			  if $forbidden && $forbidden->($id);
			$previous = $distance;
			$hits++ if $distance <= $kth + 1e-12 * (1 + abs($kth));
		}
		push @malformed, "query $query: " . scalar(@have) . " rows" if @have != 10;
		$total += @want;
	}
	$hits = $total if $hits > $total;
	return ($hits / $total, \@malformed);
}

1;
