#!/bin/bash
# auth-dns: DKIM and SPF against a real DNS server (dnsmasq on 127.0.0.1:5353).
#
# Messages are signed by independent signers (perl Mail::DKIM, relaxed and
# simple) and by imi itself, and checked with `imi auth check`; imi's own
# signature is checked by perl's Mail::DKIM::Verifier.  A 4096-bit key makes
# the DNS answer too big for UDP (the resolver must retry over TCP).  At the
# end the DNS server is stopped: every result must become temperror, never
# fail.
set -u
IMI=${IMI:?path of the imi binary}
PORT=${AUTH_DNS_PORT:-5353}
DNS=127.0.0.1:$PORT
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-auth-dns.XXXXXX")
dnsmasq_pid=
failed=0

cleanup() {
	[ -n "$dnsmasq_pid" ] && kill "$dnsmasq_pid" 2>/dev/null && wait "$dnsmasq_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=1; }
# expect NAME PATTERN OUTPUT: OUTPUT must contain a line matching PATTERN.
expect() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else
		not_ok "$1: wanted a line matching /$2/, got:"
		printf '%s\n' "$3" | sed 's/^/#   /'
	fi
}

for tool in dnsmasq openssl perl; do
	command -v "$tool" >/dev/null || { not_ok "$tool is not installed (tools/deps.sh check)"; exit 1; }
done

# ---- keys ------------------------------------------------------------------
cd "$tmp" || exit 1
openssl genrsa -traditional -out s2048.pem 2048 2>/dev/null
openssl genrsa -traditional -out big.pem 4096 2>/dev/null
openssl genrsa -traditional -out imi.pem 2048 2>/dev/null
openssl genpkey -algorithm ed25519 -out ed.pem 2>/dev/null
pub_rsa() { openssl rsa -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0; }
pub_ed() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0; }
# A TXT record as dnsmasq takes it: strings of at most 255 octets.
txt() {
	local name=$1 text=$2 out
	out="txt-record=$name"
	while [ ${#text} -gt 200 ]; do out="$out,\"${text:0:200}\""; text=${text:200}; done
	echo "$out,\"$text\""
}

cat >dnsmasq.conf <<EOF
port=$PORT
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
no-poll
local=/example.org/
local=/example.eu/
log-facility=$tmp/dnsmasq.log
log-queries
# A domain whose server never answers: lookups there are DNS trouble.
server=/broken.example.net/127.0.0.1#9
$(txt s2048._domainkey.authority.example.org "v=DKIM1; k=rsa; p=$(pub_rsa s2048.pem)")
$(txt big._domainkey.authority.example.org "v=DKIM1; k=rsa; p=$(pub_rsa big.pem)")
$(txt ed._domainkey.authority.example.org "v=DKIM1; k=ed25519; p=$(pub_ed ed.pem)")
$(txt imi._domainkey.imi.example.eu "v=DKIM1; k=rsa; p=$(pub_rsa imi.pem)")
$(txt authority.example.org "v=spf1 ip4:192.0.2.10 ip6:2001:db8::10 -all")
$(txt soft.example.org "v=spf1 ip4:192.0.2.10 ~all")
$(txt mail.authority.example.org "v=spf1 a -all")
$(txt inc.example.org "v=spf1 include:broken.example.net -all")
host-record=mail.authority.example.org,192.0.2.25
EOF
dnsmasq --conf-file="$tmp/dnsmasq.conf" --keep-in-foreground --pid-file="$tmp/dnsmasq.pid" &
dnsmasq_pid=$!
for _ in $(seq 50); do
	perl -MNet::DNS -e '$r=Net::DNS::Resolver->new(nameservers=>["127.0.0.1"],port=>'"$PORT"');
		exit($r->query("authority.example.org","TXT")?0:1)' 2>/dev/null && break
	sleep 0.1
done
if kill -0 "$dnsmasq_pid" 2>/dev/null; then ok "dnsmasq answers on $DNS"; else
	not_ok "dnsmasq did not start"; cat "$tmp/dnsmasq.log" 2>/dev/null; exit 1
fi

# ---- messages --------------------------------------------------------------
cat >msg.eml <<'EOF'
From: Anna Berg <anna@authority.example.org>
To: imi+42.ans.abcdefgh@imi.example.eu
Subject: Re: Request IMI-2026-000042
Date: Wed, 25 Nov 2026 10:00:00 +0100
Message-ID: <reply-1@authority.example.org>

Q1: yes
Q2: the licence was withdrawn on 3 March 2026.

Regards,
Anna
EOF

cat >sign.pl <<'EOF'
use strict; use warnings;
use Mail::DKIM::Signer;
my ($key, $selector, $domain, $method) = @ARGV;
my $msg = do { local $/; <STDIN> }; $msg =~ s/\r?\n/\r\n/g;
my $signer = Mail::DKIM::Signer->new(Algorithm => "rsa-sha256", Method => $method,
	Domain => $domain, Selector => $selector, KeyFile => $key,
	Headers => "from:to:subject:date:message-id");
$signer->PRINT($msg); $signer->CLOSE;
print $signer->signature->as_string, "\r\n", $msg;
EOF

cat >verify.pl <<'EOF'
use strict; use warnings;
use Mail::DKIM::Verifier; use Mail::DKIM::DNS; use Net::DNS;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ["127.0.0.1"], port => $ARGV[0]));
my $msg = do { local $/; <STDIN> }; $msg =~ s/\r?\n/\r\n/g;
my $v = Mail::DKIM::Verifier->new; $v->PRINT($msg); $v->CLOSE;
print join(" ", map { $_->result . "/" . $_->domain } $v->signatures), "\n";
EOF

check() { "$IMI" --home "$tmp/home" auth check --dns-server "$DNS" "$@" 2>&1; }

for method in relaxed simple; do
	perl sign.pl s2048.pem s2048 authority.example.org "$method" <msg.eml >perl-$method.eml
	out=$(check perl-$method.eml)
	expect "perl Mail::DKIM $method/$method signature verifies" \
		'^dkim: pass d=authority.example.org s=s2048 a=rsa-sha256' "$out"
	expect "perl $method signature: From domain aligned" '^aligned: dkim d=authority.example.org yes' "$out"
	sed 's/^Q1: yes/Q1: no/' perl-$method.eml >perl-$method-changed.eml
	out=$(check perl-$method-changed.eml)
	expect "perl $method signature, body changed: fail" '^dkim: fail d=authority.example.org .*body' "$out"
done

perl sign.pl big.pem big authority.example.org relaxed <msg.eml >big.eml
out=$(check big.eml)
expect "4096-bit key (DNS answer over 512 octets, TCP retry) verifies" \
	'^dkim: pass d=authority.example.org s=big' "$out"
n=$(grep -c 'query\[TXT\] big._domainkey.authority.example.org' dnsmasq.log)
if [ "$n" -ge 2 ]; then ok "the big key was asked twice (UDP, truncated; then TCP)"; else
	not_ok "the big key was asked $n times, want 2 (UDP then TCP)"; fi

"$IMI" --home "$tmp/home" auth sign --selector ed --domain authority.example.org --key ed.pem msg.eml >ed.eml
out=$(check ed.eml)
expect "ed25519-sha256 key from DNS verifies" '^dkim: pass d=authority.example.org s=ed a=ed25519-sha256' "$out"

perl sign.pl s2048.pem nokey authority.example.org relaxed <msg.eml >nokey.eml
out=$(check nokey.eml)
expect "selector without a key record: permerror" '^dkim: permerror d=authority.example.org s=nokey' "$out"

# imi's signature, checked by an independent verifier.
"$IMI" --home "$tmp/home" auth sign --selector imi --domain imi.example.eu --key imi.pem msg.eml >imi.eml
res=$(perl verify.pl "$PORT" <imi.eml 2>&1)
if [ "$res" = "pass/imi.example.eu" ]; then ok "imi's signature verified by perl Mail::DKIM::Verifier"; else
	not_ok "imi's signature verified by perl Mail::DKIM::Verifier: got '$res'"; fi
sed 's/^Q1: yes/Q1: no/' imi.eml | perl verify.pl "$PORT" >res.txt 2>&1
if grep -q '^fail/imi.example.eu' res.txt; then ok "perl verifier sees a changed body of imi's message as fail"; else
	not_ok "perl verifier on a changed body: got '$(cat res.txt)'"; fi
out=$(check imi.eml)
expect "imi's signature verified by imi through DNS" '^dkim: pass d=imi.example.eu s=imi' "$out"
expect "imi.example.eu does not align with the From domain" '^aligned: dkim d=imi.example.eu no' "$out"

# ---- SPF -------------------------------------------------------------------
out=$(check --sender anna@authority.example.org --client-ip 192.0.2.10 --helo mail.authority.example.org msg.eml)
expect "SPF pass (ip4)" '^spf: pass identity=mailfrom domain=authority.example.org' "$out"
expect "SPF pass aligned with From" '^aligned: spf authority.example.org yes' "$out"
out=$(check --sender anna@authority.example.org --client-ip 2001:db8::10 msg.eml)
expect "SPF pass (ip6)" '^spf: pass identity=mailfrom domain=authority.example.org' "$out"
out=$(check --sender anna@authority.example.org --client-ip 198.51.100.7 msg.eml)
expect "SPF fail" '^spf: fail identity=mailfrom domain=authority.example.org' "$out"
out=$(check --sender someone@soft.example.org --client-ip 198.51.100.7 msg.eml)
expect "SPF softfail" '^spf: softfail identity=mailfrom domain=soft.example.org' "$out"
out=$(check --sender someone@nospf.example.org --client-ip 192.0.2.10 msg.eml)
expect "SPF none (no record)" '^spf: none identity=mailfrom domain=nospf.example.org' "$out"
out=$(check --sender '' --helo mail.authority.example.org --client-ip 192.0.2.25 msg.eml)
expect "SPF of the HELO name for an empty sender (a mechanism)" \
	'^spf: pass identity=helo domain=mail.authority.example.org' "$out"
out=$(check --sender '' --helo mail.authority.example.org --client-ip 192.0.2.26 msg.eml)
expect "SPF fail of the HELO name" '^spf: fail identity=helo domain=mail.authority.example.org' "$out"

out=$(check --sender someone@inc.example.org --client-ip 192.0.2.10 msg.eml)
rc=$?
expect "SPF include: of a domain whose DNS does not answer: temperror, not fail" \
	'^spf: temperror identity=mailfrom domain=inc.example.org' "$out"
if [ "$rc" = 75 ]; then ok "SPF temperror: exit 75"; else not_ok "SPF temperror: exit code $rc, want 75"; fi

# ---- DNS server gone -------------------------------------------------------
kill "$dnsmasq_pid"
wait "$dnsmasq_pid" 2>/dev/null
dnsmasq_pid=
out=$(check --sender anna@authority.example.org --client-ip 192.0.2.10 perl-relaxed.eml)
rc=$?
expect "DNS server stopped: DKIM temperror, not fail" '^dkim: temperror d=authority.example.org' "$out"
expect "DNS server stopped: SPF temperror, not fail" '^spf: temperror' "$out"
if [ "$rc" = 75 ]; then ok "DNS server stopped: exit 75 (try again later)"; else
	not_ok "DNS server stopped: exit code $rc, want 75"; fi

exit $failed
