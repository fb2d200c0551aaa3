#!/bin/sh
# The real-sshd harness's own configuration (ssh_lib.sh's sshd_start): a line the caller gives
# is what sshd runs with (sshd -T), for keywords sshd keeps first (LoginGraceTime) and last
# (MaxStartups) alike, and a MaxStartups above the default really lets 100 unauthenticated
# connections in at once (bench/run-login.sh's burst depends on it). No idgated, no PAM login.
. "$top_srcdir/tests/integ/t_oidc_lib.sh"
. "$top_srcdir/tests/integ/ssh_lib.sh"
ssh_require perl
ssh_enter_namespace "$@"

t_setup
ssh_world

# sshd_T KEYWORD: the value sshd would run with for KEYWORD (lower case), from sshd -T.
sshd_T() {
	"$SSHD" -T -f "$T_DIR/ssh/sshd_config" 2>"$T_DIR/sshd-T.err" | awk -v k="$1" '$1 == k { print $2 }'
}

# held_banners N: open N TCP connections to sshd at once and keep them all open; print how
# many got sshd's "SSH-2.0-" banner (a connection sshd drops past MaxStartups gets none).
held_banners() {
	perl -MIO::Socket::INET -e '
		my ($port, $n) = @ARGV;
		my @s;
		for (1 .. $n) {
			my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port,
				Timeout => 10);
			push @s, $c if $c;
		}
		my $got = 0;
		for my $c (@s) {
			my $line;
			eval { local $SIG{ALRM} = sub { die "timeout\n" }; alarm 20; $line = <$c>; alarm 0; };
			$got++ if defined $line && $line =~ /^SSH-2\.0-/;
		}
		print "$got\n";' "$SSH_PORT" "$1"
}

# ---------- the defaults ----------
ok "sshd starts with the harness's defaults" sshd_start
is "... sshd -T: maxstartups 64:30:64" "$(sshd_T maxstartups)" "64:30:64"
is "... logingracetime 60" "$(sshd_T logingracetime)" "60"
sshd_stop

# ---------- the caller's lines replace the defaults ----------
ok "sshd starts with 'MaxStartups 200' and 'logingracetime 45' from the caller" \
	sshd_start "MaxStartups 200" "logingracetime 45"
is "... sshd -T: maxstartups 200:30:200 (a keyword sshd keeps the last value of)" \
	"$(sshd_T maxstartups)" "200:30:200"
is "... logingracetime 45 (one it keeps the first value of, given in another case)" \
	"$(sshd_T logingracetime)" "45"
is "... each keyword appears once in sshd_config" \
	"$(grep -ciE '^(maxstartups|logingracetime)[[:space:]]' "$T_DIR/ssh/sshd_config")" 2
is "... the other defaults stay (the port it listens on, PAM)" \
	"$(sshd_T port) $(sshd_T usepam)" "$SSH_PORT yes"
is "100 connections held open at once: every one gets sshd's banner" "$(held_banners 100)" 100
ok "... and sshd dropped none past MaxStartups" sh -c "! grep -q 'past MaxStartups' '$T_DIR/sshd.log'"
sshd_stop

ok "sshd starts with 'MaxStartups 10:30:20'" sshd_start "MaxStartups 10:30:20"
is "... sshd -T: maxstartups 10:30:20" "$(sshd_T maxstartups)" "10:30:20"
is "... 40 connections held open at once: at most 20 get a banner" \
	"$(held_banners 40 | awk '{ print ($1 <= 20 && $1 >= 10) ? "10 to 20" : $1 }')" "10 to 20"
ok "... sshd logged the drops past MaxStartups" grep -q 'past MaxStartups' "$T_DIR/sshd.log"
sshd_stop
done_testing
