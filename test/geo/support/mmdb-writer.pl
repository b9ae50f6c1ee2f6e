#!/usr/bin/perl
# Writes a MaxMind DB with Debian's libmaxmind-db-writer-perl, for the geo tests.
# Usage: mmdb-writer.pl OUT < spec.json
# spec: { "database_type", "ip_version" (4|6), "record_size" (24|28|32),
#         "root_data_type" (a type; "array" is an array of utf8_string, MetaCubeX's layout),
#         "types": { key: type or [ "array", type ] },
#         "networks": [ [ "1.2.3.0/24", data ], ... ] }
use strict;
use warnings;
use JSON::PP;
use MaxMind::DB::Writer::Serializer;
use MaxMind::DB::Writer::Tree;

# The writer takes no member type for a root array; MetaCubeX's databases have arrays of codes
# at the root, so an array stored without one holds strings.
{
    no warnings 'redefine';
    my $orig = \&MaxMind::DB::Writer::Serializer::store_data;
    *MaxMind::DB::Writer::Serializer::store_data = sub {
        my ( $self, $type, $data, $member, @rest ) = @_;
        $member //= 'utf8_string' if $type eq 'array';
        return $orig->( $self, $type, $data, $member, @rest );
    };
}

my $out = shift @ARGV or die "usage: $0 OUT < spec.json\n";
local $/;
my $spec = JSON::PP->new->decode(<STDIN>);
my %types = %{ $spec->{types} // {} };
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => $spec->{ip_version} // 6,
    record_size              => $spec->{record_size} // 24,
    database_type            => $spec->{database_type},
    languages                => ['en'],
    description              => { en => 'clash-ts test database' },
    remove_reserved_networks => 0,
    alias_ipv6_to_ipv4       => ($spec->{ip_version} // 6) == 6 ? 1 : 0,
    map_key_type_callback    => sub { $types{ $_[0] } // die "no type for key $_[0]\n" },
    (defined $spec->{root_data_type} ? (root_data_type => $spec->{root_data_type}) : ()),
);
for my $n (@{ $spec->{networks} }) {
    $tree->insert_network($n->[0], $n->[1]);
}
open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot close $out: $!\n";
