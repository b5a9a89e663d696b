#!/usr/bin/env perl
# Random-mutation fuzzing of the `vector` type's input functions against a running server
# with the extension installed (libpq environment: PGHOST, PGPORT, PGUSER; the user must be
# a superuser, for COPY FROM a server-side file). It works in a database ann_fuzz of its
# own, made and dropped here. Prints TAP.
#
#   test/fuzz/fuzz_vector_input.pl [--seed N] [--seconds S] [--scratch DIR]
#   (or ANN_FUZZ_SEED, ANN_FUZZ_SECONDS; cases run in batches until S seconds have passed)
#
# Text cases (vector_in) are mutations of a seed corpus and freshly generated vectors. Each
# is judged inside the server by judge_text, against float4in as the reference
# for the elements:
#   accepted  the input is `[elements]` within ASCII whitespace, has one element per comma
#             plus one, each equal to what float4in reads (where float4in reads it: it
#             refuses underflow, which vector turns into 0), output reads back to the same
#             value and text, and a typmod of its length accepts it while length + 1 refuses;
#   rejected  with 22P02, 22023, 22003, 22000 or 54000 and a message naming the vector type,
#             and never when float4in reads the bracketed list as 1 to 16,000 finite values.
# Binary cases (vector_recv) are payloads with random or extreme dimensions, unused fields,
# float bit patterns, truncation, trailing bytes and bit flips, loaded by COPY ... FROM a
# file (FORMAT binary) into an untyped and a vector(3) column. This program knows whether
# each payload is valid (1 to 16,000 dimensions, unused 0, exactly that many finite floats,
# the typmod's length): valid ones must load and send back byte for byte; the rest must be
# refused with a data SQLSTATE (22000, 22003, 22023, 54000) or Postgres' own framing errors
# for payloads shorter or longer than their dimensions (08P01, 22P03).
# A crash or hang fails the batch (psql loses the connection, or statement_timeout fires).
# The number of cases, the seed and the time taken are printed; a failing case is printed
# in hex so it can be replayed.
use strict;
use warnings;

use File::Temp qw(tempdir);
use Getopt::Long;
use Time::HiRes qw(time);

my $seed = $ENV{ANN_FUZZ_SEED} // 20240611;
my $seconds = $ENV{ANN_FUZZ_SECONDS} // 40;
my $scratch;
GetOptions('seed=i' => \$seed, 'seconds=f' => \$seconds, 'scratch=s' => \$scratch)
  or die "usage: $0 [--seed N] [--seconds S] [--scratch DIR]\n";
$scratch //= tempdir('ann-fuzz.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $scratch;    # the server reads the COPY files

srand($seed);
my $max_dim = 16000;
my $batch_size = 250;
my $started = time;
my $test_number = 0;

sub tap
{
	my ($ok, $name, @diagnostics) = @_;
	$test_number++;
	print(($ok ? 'ok' : 'not ok') . " $test_number - $name\n");
	print "# $_\n" for map { split /\n/ } @diagnostics;
}

# Runs SQL in one psql session; returns (exit status, stdout lines, stderr).
sub run_sql
{
	my ($sql) = @_;
	my $file = "$scratch/batch.sql";
	open(my $fh, '>:raw', $file) or die "write $file: $!";
	print $fh "SET statement_timeout = '20s';\n$sql";
	close($fh);
	my $output = `psql -X -q -A -t -v ON_ERROR_STOP=1 -f '$file' 2>'$scratch/stderr'`;
	my $status = $? >> 8;
	open($fh, '<', "$scratch/stderr") or die;
	my $stderr = do { local $/; <$fh> };
	close($fh);
	return ($status, [ split /\n/, $output ], $stderr);
}

# The fuzz database is made and dropped from the one the environment names.
my $home_database = $ENV{PGDATABASE} // 'postgres';
$ENV{PGDATABASE} = $home_database;
my ($status, undef, $stderr) = run_sql("SET client_min_messages = warning;\n"
	  . "DROP DATABASE IF EXISTS ann_fuzz;\nCREATE DATABASE ann_fuzz;\n");
$ENV{PGDATABASE} = 'ann_fuzz';
($status, undef, my $more_stderr) = run_sql(<<'SQL') if $status == 0;
CREATE EXTENSION ann;
CREATE TABLE any_length (v vector);
CREATE TABLE three (v vector(3));

CREATE FUNCTION judge_text(input text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	inner_text text := substring(input FROM '^[ \t\n\r\f\v]*\[(.*)\][ \t\n\r\f\v]*$');
	pieces text[] := string_to_array(inner_text, ',');
	reference real[];
	value vector;
	shown text;
	again vector;
	state text;
	message text;
BEGIN
	BEGIN
		reference := pieces::real[];
	EXCEPTION WHEN OTHERS THEN
		reference := NULL;
	END;
	BEGIN
		value := input::vector;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		IF state NOT IN ('22P02', '22023', '22003', '22000', '54000') OR message NOT LIKE '%vector%' THEN
			RETURN 'FAIL rejected with ' || state || ': ' || message;
		END IF;
		IF cardinality(reference) BETWEEN 1 AND 16000
		   AND 'NaN' <> ALL (reference) AND 'Infinity' <> ALL (reference) AND '-Infinity' <> ALL (reference) THEN
			RETURN 'FAIL rejected (' || message || ') although float4in reads ' || cardinality(reference) || ' finite elements';
		END IF;
		RETURN 'rejected ' || state;
	END;
	IF inner_text IS NULL THEN
		RETURN 'FAIL accepted although not [elements] within whitespace';
	END IF;
	IF vector_dims(value) <> cardinality(pieces) THEN
		RETURN 'FAIL accepted with ' || vector_dims(value) || ' dimensions, for ' || cardinality(pieces) || ' comma-separated elements';
	END IF;
	IF reference IS NOT NULL AND reference IS DISTINCT FROM value::real[] THEN
		RETURN 'FAIL accepted as ' || value::text || ', float4in reads ' || reference::text;
	END IF;
	shown := value::text;
	BEGIN
		again := shown::vector;
	EXCEPTION WHEN OTHERS THEN
		RETURN 'FAIL output ' || shown || ' does not read back: ' || SQLERRM;
	END;
	IF again::text <> shown OR vector_send(again) <> vector_send(value) THEN
		RETURN 'FAIL output ' || shown || ' reads back as ' || again::text;
	END IF;
	BEGIN
		EXECUTE format('SELECT %L::vector(%s)', input, vector_dims(value));
	EXCEPTION WHEN OTHERS THEN
		RETURN 'FAIL refused by vector(' || vector_dims(value) || '): ' || SQLERRM;
	END;
	IF vector_dims(value) < 16000 THEN
		BEGIN
			EXECUTE format('SELECT %L::vector(%s)', input, vector_dims(value) + 1);
			RETURN 'FAIL accepted by vector(' || vector_dims(value) + 1 || ')';
		EXCEPTION WHEN data_exception THEN
			NULL;
		END;
	END IF;
	RETURN 'accepted';
END $$;

CREATE FUNCTION judge_binary(path text, payload bytea, valid boolean, typed boolean)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	loaded bytea;
	state text;
	message text;
BEGIN
	DELETE FROM any_length;
	DELETE FROM three;
	BEGIN
		EXECUTE format('COPY %s FROM %L (FORMAT binary)',
			CASE WHEN typed THEN 'three' ELSE 'any_length' END, path);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
		IF valid THEN
			RETURN 'FAIL valid payload refused with ' || state || ': ' || message;
		END IF;
		IF state NOT IN ('22000', '22003', '22023', '54000', '08P01', '22P03') THEN
			RETURN 'FAIL refused with ' || state || ': ' || message;
		END IF;
		RETURN 'rejected ' || state;
	END;
	SELECT vector_send(v) INTO loaded FROM (SELECT v FROM any_length UNION ALL SELECT v FROM three) s;
	IF NOT valid THEN
		RETURN 'FAIL invalid payload loaded as ' || encode(loaded, 'hex');
	END IF;
	IF loaded IS DISTINCT FROM payload THEN
		RETURN 'FAIL payload sends back as ' || coalesce(encode(loaded, 'hex'), 'nothing');
	END IF;
	RETURN 'accepted';
END $$;
SQL
if ($status != 0)
{
	tap(0, 'the fuzz database is set up', $stderr . ($more_stderr // ''));
	print "1..$test_number\n";
	exit 1;
}

# --- text cases ---------------------------------------------------------------------------

my @space = (' ', "\t", "\n", "\r", "\x0b", "\x0c");
my @odd_chars = (
	split(//, '0123456789+-.eExXpP,[]{}():;/"\'\\_aAfFiInNtTy'),
	@space, "\x{a0}", "\x{2003}", "\x{3000}", "\x{feff}", "\x{ff11}", "\x{661}", "\x{e9}", "\x{1f600}", "\x{7f}",
	"\x{1}", "\x{2028}");
my @tokens = (
	'NaN', 'nan', '-nan', 'NAN(123)', 'Infinity', 'infinity', '-Infinity', 'inf', '+inf', '-INF', 'infinit',
	'1e38', '3.4028235e38', '3.40282357e38', '3.4028236e38', '-3.4028236e38', '4e38', '1e39',
	'1.17549435e-38', '1e-40', '1.4e-45', '1e-45', '7e-46', '1e-50', '-1e-50', '0', '-0', '+0', '0.0',
	'0x1p-149', '0x1p-150', '0x1.fffffep127', '0x1p128', '0x', '0x.p1', '0X1P3', '1e999999999999',
	'1e-999999999999', '1e+', '1e', 'e5', '.', '.5', '5.', '+.5e+5', '-.e1', '00000001', '1_000',
	'0.' . ('0' x 60) . '1', '1' . ('0' x 60), ('9' x 200), '1.' . ('1' x 300), '12345678901234567890',
	'0.30000001192092896', '16777217', '-');
my @seed_corpus = (
	'[1,2,3]', '[1]', ' [ 1 , -2.5e-3 , +4. ] ', "\t[1,\n2]\r\n", '[0x1p-3,1e38,-0]', '[1e-50]',
	'[3.4028235e38]', '[]', '[ ]', '[1,]', '[,1]', '[1,,2]', '[1a]', '[1', '1]', '[1] x', '[1]]', '[[1]]',
	'[1 2]', '[NaN]', '[Infinity]', '[-inf]', '[4e38]', '[1e999]', '{1,2}', '(1,2)', '[1;2]', '[-]',
	'[.]', '[1e]', '[0x]', '', ' ', '[', ']', ',', "[1,\x{a0}2]", "[\x{ff11}]", "[1]\x{feff}",
	'[' . join(',', (1) x $max_dim) . ']', '[' . join(',', (1) x ($max_dim + 1)) . ']',
	'[' . ('9' x 5000) . ']', '[0.' . ('0' x 5000) . '1]', '[' . join(',', ('1.5') x 2000) . ']');

sub random_element
{
	my $pick = rand;
	return $tokens[ int rand @tokens ] if $pick < 0.1;
	my $value = (rand() - 0.5) * 10**(int(rand 80) - 40);
	return sprintf('%a', $value) if $pick < 0.2;
	return sprintf('%.*e', int rand 12, $value) if $pick < 0.5;
	return sprintf('%.*f', int rand 10, $value) if $pick < 0.8;
	return int($value * 1000);
}

sub random_space
{
	return '' if rand() < 0.7;
	return join('', map { $space[ int rand @space ] } 1 .. 1 + int rand 3);
}

sub generated_vector
{
	my $pick = rand;
	my $dim = $pick < 0.02 ? $max_dim - 1 + int rand 3 : $pick < 0.1 ? int rand 300 : 1 + int rand 20;
	return random_space() . '['
	  . join(',', map { random_space() . random_element() . random_space() } 1 .. $dim) . ']'
	  . random_space();
}

sub mutate
{
	my ($text) = @_;
	for (1 .. 1 + int rand 4)
	{
		my $at = int rand(length($text) + 1);
		my $op = int rand 9;
		if ($op == 0) { substr($text, $at, 0) = $odd_chars[ int rand @odd_chars ]; }
		elsif ($op == 1) { substr($text, $at, 1) = '' if $at < length $text; }
		elsif ($op == 2) { substr($text, $at, 1) = $odd_chars[ int rand @odd_chars ] if $at < length $text; }
		elsif ($op == 3) { substr($text, $at, 0) = $tokens[ int rand @tokens ]; }
		elsif ($op == 4)
		{
			my @numbers;
			push @numbers, [ $-[0], $+[0] - $-[0] ] while $text =~ /[0-9.eExXpP+-]+/g;
			if (@numbers)
			{
				my $number = $numbers[ int rand @numbers ];
				substr($text, $number->[0], $number->[1]) = $tokens[ int rand @tokens ];
			}
		}
		elsif ($op == 5)
		{
			my $length = 1 + int rand 8;
			substr($text, $at, 0) = substr($text, $at, $length) x (2 + int rand 50);
		}
		elsif ($op == 6) { $text = substr($text, 0, $at); }
		elsif ($op == 7)
		{
			my $other = $seed_corpus[ int rand @seed_corpus ];
			$text = substr($text, 0, $at) . substr($other, int rand(length($other) + 1));
		}
		else
		{
			my $other = int rand(length($text) + 1);
			if ($at < length $text && $other < length $text)
			{
				my $char = substr($text, $at, 1);
				substr($text, $at, 1) = substr($text, $other, 1);
				substr($text, $other, 1) = $char;
			}
		}
	}
	return $text;
}

sub text_case
{
	my ($number) = @_;
	return $seed_corpus[$number] if $number < @seed_corpus;
	my $pick = rand;
	return generated_vector() if $pick < 0.25;
	return mutate(generated_vector()) if $pick < 0.5;
	return mutate($seed_corpus[ int rand @seed_corpus ]);
}

sub hex_of
{
	my ($text) = @_;
	my $bytes = $text;
	utf8::encode($bytes);
	return unpack('H*', $bytes);
}

# Cases are shown in hex (UTF-8 for text), long ones cut: the seed and the case number
# reproduce them.
sub shortened_hex
{
	my ($hex) = @_;
	return length($hex) <= 200 ? $hex : substr($hex, 0, 200) . '... (' . length($hex) / 2 . ' bytes)';
}

# --- binary cases -------------------------------------------------------------------------

my @float_patterns = (
	0x7fc00000, 0xffc00000, 0x7f800001, 0x7f800000, 0xff800000, 0x80000000, 0x00000000, 0x00000001,
	0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x3f800000);

sub random_float_bytes
{
	return pack('N', $float_patterns[ int rand @float_patterns ]) if rand() < 0.05;
	return pack('f>', (rand() - 0.5) * 10**(int(rand 60) - 30));
}

# A payload and whether it is a valid vector (for a column of `typed` = vector(3) or not).
sub binary_case
{
	my $pick = rand;
	my @edge_dims = (0, -1, -32768, 2, 3, 4, $max_dim, $max_dim + 1, 32767);
	my $dim = $pick < 0.15 ? $edge_dims[ int rand @edge_dims ] : $pick < 0.2 ? int rand 2000 : 1 + int rand 20;
	my $unused = rand() < 0.85 ? 0 : (1, -1, 256, 32767)[ int rand 4 ];
	my $float_count = $dim >= 0 && $dim <= $max_dim + 1 ? $dim : int rand 4;
	my $payload = pack('s>s>', $dim, $unused) . join('', map { random_float_bytes() } 1 .. $float_count);
	$pick = rand;
	if ($pick < 0.15)
	{
		substr($payload, int rand length $payload) = '';
	}
	elsif ($pick < 0.25)
	{
		$payload .= join('', map { chr int rand 256 } 1 .. 1 + int rand 8);
	}
	elsif ($pick < 0.3)
	{
		my $at = int rand length $payload;
		substr($payload, $at, 1) = chr(ord(substr($payload, $at, 1)) ^ (1 << int rand 8));
	}
	my $typed = rand() < 0.2;
	return ($payload, binary_is_valid($payload, $typed), $typed);
}

sub binary_is_valid
{
	my ($payload, $typed) = @_;
	return 0 if length($payload) < 4;
	my ($dim, $unused) = unpack('s>s>', $payload);
	return 0 if $dim < 1 || $dim > $max_dim || $unused != 0 || length($payload) != 4 + 4 * $dim;
	return 0 if $typed && $dim != 3;
	for my $bits (unpack('N*', substr($payload, 4)))
	{
		return 0 if ($bits & 0x7f800000) == 0x7f800000;    # NaN or infinite
	}
	return 1;
}

sub copy_file
{
	my ($path, $payload) = @_;
	open(my $fh, '>:raw', $path) or die "write $path: $!";
	print $fh "PGCOPY\n\377\r\n\0", pack('NN', 0, 0), pack('nN', 1, length $payload), $payload, pack('n', 0xFFFF);
	close($fh);
	chmod 0644, $path;
}

# --- running ------------------------------------------------------------------------------

my (%tally, @failures, $crashed);
my ($text_cases, $binary_cases) = (0, 0);
my $deadline = $started + $seconds;
my $batch = 0;
while (time < $deadline && !$crashed)
{
	my (@sql, %inputs);
	my $binary = $batch++ % 3 == 2;
	for my $i (0 .. $batch_size - 1)
	{
		if ($binary)
		{
			my $number = $binary_cases++;
			my ($payload, $valid, $typed) = binary_case();
			my $path = "$scratch/case$i.copy";
			copy_file($path, $payload);
			$inputs{"b$number"} = "binary case $number " . ($typed ? 'vector(3) ' : '') . shortened_hex(unpack('H*', $payload));
			push @sql,
			  sprintf("SELECT 'b%d|' || judge_binary('%s', '\\x%s', %s, %s);",
				$number, $path, unpack('H*', $payload), $valid ? 'true' : 'false', $typed ? 'true' : 'false');
		}
		else
		{
			my $number = $text_cases++;
			my $text = text_case($number);
			my $hex = hex_of($text);
			$inputs{"t$number"} = "text case $number " . shortened_hex($hex);
			push @sql, "SELECT 't$number|' || judge_text(convert_from('\\x$hex', 'UTF8'));";
		}
	}
	my ($status, $lines, $stderr) = run_sql(join("\n", @sql) . "\n");
	my %judged;
	for my $line (@$lines)
	{
		my ($case, $verdict) = split /\|/, $line, 2;
		$judged{$case} = 1;
		my ($kind) = $case =~ /^([tb])/;
		if ($verdict =~ /^FAIL/)
		{
			push @failures, "$inputs{$case}: $verdict";
			$tally{$kind}{failed}++;
		}
		else
		{
			$tally{$kind}{$verdict}++;
		}
	}
	if ($status != 0)
	{
		my ($first_missing) = grep { !$judged{$_} } sort keys %inputs;
		push @failures, "batch failed at $inputs{$first_missing // ''}: $stderr";
		$crashed = 1;
	}
}
my $elapsed = time - $started;

sub summary
{
	my ($kind) = @_;
	my $counts = $tally{$kind} // {};
	return join(', ', map { "$_ $counts->{$_}" } sort keys %$counts);
}

tap(!@failures, "vector input: $text_cases text and $binary_cases binary cases, none mishandled",
	@failures > 20 ? (@failures[ 0 .. 19 ], scalar(@failures) . ' failures in all') : @failures);
my ($alive_status, $alive) = run_sql("SELECT 'alive';\n");
tap($alive_status == 0 && "@$alive" eq 'alive', 'the server is still up');
print "# seed $seed, " . sprintf('%.1f s', $elapsed) . "\n";
print '# text:   ' . summary('t') . "\n";
print '# binary: ' . summary('b') . "\n";
$ENV{PGDATABASE} = $home_database;
run_sql("DROP DATABASE ann_fuzz;\n");
print "1..$test_number\n";
exit(@failures || $alive_status != 0 ? 1 : 0);
