#!/usr/bin/perl
# dkim_verify.pl PORT FILE: verifies the DKIM signature of FILE with
# Mail::DKIM (an implementation independent of libopendkim), fetching keys
# from the DNS server on 127.0.0.1:PORT.  Prints "RESULT DETAIL".
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;

my ($port, $file) = @ARGV;
my $res = Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $port,
	recurse => 1, udp_timeout => 5, tcp_timeout => 5, retry => 2);
Mail::DKIM::DNS::resolver($res);
my $v = Mail::DKIM::Verifier->new();
open(my $fh, '<', $file) or die "$file: $!";
while (my $line = <$fh>) {
	$line =~ s/\r?\n\z/\r\n/;
	$v->PRINT($line);
}
$v->CLOSE();
print $v->result(), " ", ($v->result_detail() // ""), "\n";
