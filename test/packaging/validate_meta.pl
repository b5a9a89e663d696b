#!/usr/bin/env perl
# Checks META.json against the PGXN meta spec v1.0.0 (https://pgxn.org/spec/) and against
# the rest of the tree: the release version and every provided extension's version equal
# ann.control's default_version, and the files they name exist. Uses core Perl only.
# Prints TAP; exits non-zero when a check fails.
#   test/packaging/validate_meta.pl [META.json]
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use JSON::PP;
use Test::More;

my $repo = File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $meta_file = $ARGV[0] // "$repo/META.json";

# A version as the spec reads it: Semantic Versioning 1.0.0, where a pre-release tag
# follows the patch number directly or after a dash ("1.0.0beta1", "1.0.0-rc1").
my $version = qr/(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)(?:-?[A-Za-z][0-9A-Za-z-]*)?/;
my $semver = qr/^$version$/;
# A prerequisite: 0 (any version), a version (at least that), or comparisons joined by commas.
my $comparison = qr/(?:(?:[<>]=?|[=!]=)\s*)?$version/;
my $version_range = qr/^(?:0|$comparison(?:\s*,\s*$comparison)*)$/;
my %licenses = map { $_ => 1 } qw(agpl_3 apache_1_1 apache_2_0 artistic_1 artistic_2 bsd
  freebsd gfdl_1_2 gfdl_1_3 gpl_1 gpl_2 gpl_3 lgpl_2_1 lgpl_3_0 mit mozilla_1_0
  mozilla_1_1 openssl perl_5 postgresql qpl_1_0 ssleay sun zlib restricted open_source
  unrestricted unknown);
my %required = map { $_ => 1 } qw(name abstract version maintainer license provides meta-spec);
my %optional = map { $_ => 1 } qw(description generated_by tags no_index prereqs
  release_status resources);
my %phases = map { $_ => 1 } qw(configure build test runtime develop);
my %relations = map { $_ => 1 } qw(requires recommends suggests conflicts);

sub text_ok { my ($value) = @_; return defined $value && !ref $value && $value =~ /\S/; }

sub list_of_text
{
	my ($value) = @_;
	return text_ok($value) || (ref $value eq 'ARRAY' && @$value && !grep { !text_ok($_) } @$value);
}

sub problems_of_license
{
	my ($license) = @_;
	return () if text_ok($license) && $licenses{$license};
	if (ref $license eq 'ARRAY' && @$license)
	{
		return map { problems_of_license($_) } @$license;
	}
	if (ref $license eq 'HASH' && %$license)
	{
		return map { "license $_ has no URL" } grep { !text_ok($license->{$_}) } sort keys %$license;
	}
	return ('license is neither a known license name, a list of them nor a {name: URL} map');
}

my $json = do { local $/; open my $fh, '<', $meta_file or die "$meta_file: $!"; <$fh> };
my $meta = eval { JSON::PP->new->utf8->decode($json) };
ok(ref $meta eq 'HASH', "$meta_file is a JSON object") or diag($@);
$meta = {} unless ref $meta eq 'HASH';

my @missing = grep { !exists $meta->{$_} } sort keys %required;
is_deeply(\@missing, [], 'every required key is present');
my @unknown = grep { !$required{$_} && !$optional{$_} && !/^x_/i } sort keys %$meta;
is_deeply(\@unknown, [], 'every other key is an optional key of the spec or starts with x_');

is(ref $meta->{'meta-spec'} eq 'HASH' ? $meta->{'meta-spec'}{version} : undef, '1.0.0', 'meta-spec version is 1.0.0');
ok(text_ok($meta->{name}) && $meta->{name} =~ /^[^\/\\\s]{2,}$/,
	'name has at least two characters and no slash, backslash or space');
ok(text_ok($meta->{abstract}), 'abstract is a non-empty string');
like($meta->{version} // '', $semver, 'version is a semantic version');
ok(list_of_text($meta->{maintainer}), 'maintainer is a string or a list of strings');
is_deeply([ problems_of_license($meta->{license}) ], [], 'license is valid');

my $control = do { local $/; open my $fh, '<', "$repo/ann.control" or die "ann.control: $!"; <$fh> };
my ($default_version) = $control =~ /^default_version\s*=\s*'([^']*)'/m;
ok(defined $default_version, "ann.control sets default_version");
is($meta->{version}, $default_version, 'release version equals ann.control default_version');

my $provides = ref $meta->{provides} eq 'HASH' ? $meta->{provides} : {};
ok(exists $provides->{ann}, 'provides the extension ann');
for my $extension (sort keys %$provides)
{
	my $entry = $provides->{$extension};
	my @problems;
	if (ref $entry ne 'HASH')
	{
		@problems = ('is not an object');
	}
	else
	{
		push @problems, 'has no file' unless text_ok($entry->{file});
		push @problems, "names $entry->{file}, which does not exist"
		  if text_ok($entry->{file}) && !-f "$repo/$entry->{file}";
		push @problems, 'version is not a semantic version' unless ($entry->{version} // '') =~ $semver;
		push @problems, "docfile $entry->{docfile} does not exist"
		  if defined $entry->{docfile} && !-f "$repo/$entry->{docfile}";
		push @problems, 'abstract is empty' if exists $entry->{abstract} && !text_ok($entry->{abstract});
		my @unknown_keys = grep { !/^(file|version|abstract|docfile|x_.*)$/i } sort keys %$entry;
		push @problems, "has unknown keys @unknown_keys" if @unknown_keys;
	}
	is_deeply(\@problems, [], "provides.$extension is valid");
}
if (ref $provides->{ann} eq 'HASH')
{
	is($provides->{ann}{version}, $default_version, 'provides.ann.version equals ann.control default_version');
	is($provides->{ann}{file}, "sql/ann--$default_version.sql", 'provides.ann.file is the install script of that version');
}

my @prereq_problems;
if (exists $meta->{prereqs})
{
	my $prereqs = $meta->{prereqs};
	if (ref $prereqs ne 'HASH')
	{
		push @prereq_problems, 'prereqs is not an object';
	}
	else
	{
		for my $phase (sort keys %$prereqs)
		{
			push @prereq_problems, "unknown phase $phase" unless $phases{$phase} || $phase =~ /^x_/i;
			my $relations = $prereqs->{$phase};
			if (ref $relations ne 'HASH')
			{
				push @prereq_problems, "$phase is not an object";
				next;
			}
			for my $relation (sort keys %$relations)
			{
				push @prereq_problems, "unknown relationship $phase.$relation"
				  unless $relations{$relation} || $relation =~ /^x_/i;
				my $requirements = $relations->{$relation};
				if (ref $requirements ne 'HASH')
				{
					push @prereq_problems, "$phase.$relation is not an object";
					next;
				}
				for my $name (sort keys %$requirements)
				{
					my $wanted = $requirements->{$name};
					push @prereq_problems, "$phase.$relation.$name: '" . ($wanted // 'null') . "' is not a version or range"
					  unless defined $wanted && !ref $wanted && $wanted =~ $version_range;
				}
			}
		}
	}
}
is_deeply(\@prereq_problems, [], 'prereqs are phases of relationships of name => version or range');
like($meta->{prereqs}{runtime}{requires}{PostgreSQL} // '', $version_range, 'the PostgreSQL versions it runs on are given as a runtime requirement');

ok(!exists $meta->{release_status} || ($meta->{release_status} // '') =~ /^(stable|testing|unstable)$/,
	'release_status, when present, is stable, testing or unstable');
ok(!exists $meta->{tags} || (ref $meta->{tags} eq 'ARRAY' && !grep { !text_ok($_) || length($_) > 255 } @{ $meta->{tags} }),
	'tags, when present, are non-empty strings of at most 255 characters');
ok(!exists $meta->{resources} || ref $meta->{resources} eq 'HASH', 'resources, when present, is an object');

done_testing();
