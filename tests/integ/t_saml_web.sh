#!/bin/sh
# The SAML endpoint's own process (issue 13, items 1 and 6). Slowloris: 64 connections (all
# the endpoint takes) from eight addresses trickle a byte every 2 s (half inside TLS, half
# still in the handshake); GET /saml/metadata answers within a second meanwhile (a newcomer
# evicts the oldest trickler), and every trickling connection is closed by the whole-request
# deadline ([saml] request_timeout) at the latest, not kept alive by its bytes.
# A 330 KB upload on loopback takes well under a second. Privilege separation: the process
# holding the TLS sessions is the unprivileged web process (user _idgate, no capabilities,
# NoNewPrivs, a lower priority), not idgated; killed, it is restarted, and a PAM SAML login in
# progress in idgated survives it and completes; a frame out of the protocol written into its
# socket ends it (as a compromised web process would be); it dies with idgated.
. "$top_srcdir/tests/integ/t_saml_lib.sh"
saml_require
command -v ss >/dev/null 2>&1 || { echo "1..0 # SKIP ss (iproute2) is not installed"; exit 0; }
saml_enter_netns "$@"

saml_setup
saml_config "login_ttl = 120s" "request_timeout = 5s"
ok "idgated starts" daemon_start || { done_testing; exit 1; }

# web_pid: the pid of idgated's web process (a child whose argv[0] is idgated-web).
web_pid() {
	for _c in $(cat /proc/"$T_PID"/task/*/children 2>/dev/null); do
		if [ "$(tr '\0' '\n' 2>/dev/null <"/proc/$_c/cmdline" | head -n 1)" = idgated-web ]; then
			echo "$_c"
			return 0
		fi
	done
	return 1
}
status_field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
nice_of() { awk '{ print $19 }' "/proc/$1/stat"; }
metadata_time() {
	curl -sS --cacert "$CA" --max-time 20 -o "$T_DIR/md.out" -w '%{http_code} %{time_total}' \
		"$SP_BASE/saml/metadata" 2>/dev/null
}

# ---------- slowloris ----------
cat >"$T_DIR/slow.mjs" <<'JS'
// node slow.mjs PORT SECONDS: 64 connections from 127.0.0.2-9, a byte every 2 s; prints
// "closed N AFTER_MS" as the server closes each, and "left N" at the end.
import tls from 'node:tls';
import net from 'node:net';
const port = +process.argv[2], secs = +process.argv[3], t0 = Date.now();
let left = 0;
for (let i = 0; i < 64; i++) {
	const localAddress = `127.0.0.${2 + (i % 8)}`;
	const raw = i % 2 === 1;
	const s = raw ? net.connect({ host: '127.0.0.1', port, localAddress })
		: tls.connect({ host: '127.0.0.1', port, localAddress, rejectUnauthorized: false });
	left++;
	let timer = null, n = 0, closed = false;
	const hdr = [0x16, 3, 1, 0x10, 0];
	const drip = () => {
		// inside TLS: a request line and headers that never end; raw: the header of a
		// 4 KB handshake record, then its body, a byte at a time
		const b = raw ? Buffer.from(n < 5 ? [hdr[n]] : [0x78])
			: Buffer.from(n === 0 ? 'GET /saml/metadata HTTP/1.1\r\nHost: x\r\nX-A: ' : 'a');
		n++;
		s.write(b);
	};
	s.on(raw ? 'connect' : 'secureConnect', () => { drip(); timer = setInterval(drip, 2000); });
	s.on('error', () => {});
	s.on('data', () => {});	// read, so the server's FIN is seen when it comes
	s.on('close', () => {
		if (closed) return;
		closed = true; left--;
		clearInterval(timer);
		console.log(`closed ${i} ${Date.now() - t0}`);
	});
}
setTimeout(() => { console.log(`left ${left}`); process.exit(0); }, secs * 1000);
JS
node "$T_DIR/slow.mjs" "$SP_PORT" 12 >"$T_DIR/slow.out" 2>&1 &
_slow=$!
sleep 2
_worst=0 _codes=
for _i in 1 2 3 4 5; do
	_r=$(metadata_time)
	_codes="$_codes ${_r%% *}"
	_t=$(printf '%s\n' "${_r#* }" | awk '{ printf "%d", $1 * 1000 }')
	[ "$_t" -gt "$_worst" ] && _worst=$_t
	sleep 0.5
done
is "during the slowloris, GET /saml/metadata answers" "$_codes" " 200 200 200 200 200"
ok "... each within 2 s, not after the trickling ones (slowest: $_worst ms)" test "$_worst" -lt 2000
wait "$_slow"
_closed=$(grep -c '^closed ' "$T_DIR/slow.out")
_late=$(awk '$1 == "closed" && $3 > 8000 { n++ } END { print n + 0 }' "$T_DIR/slow.out")
is "every trickling connection was closed (evicted, or by the 5 s request deadline)" \
	"$_closed" 64
is "... none later than 8 s" "$_late" 0
diag "$(grep -v '^closed ' "$T_DIR/slow.out" | head -c 1000)" \
	"first and last closed: $(sort -k3 -n "$T_DIR/slow.out" | awk '$1 == "closed" { print $3 " ms" }' | sed -n '1p;$p' | tr '\n' ' ')"

# ---------- a 330 KB upload is read at once ----------
{ printf 'SAMLResponse='; head -c 330000 /dev/zero | tr '\0' 'A'; printf '%%21'; } >"$T_DIR/big.form"
_r=$(curl -sS --cacert "$CA" --max-time 60 -o "$T_DIR/big.out" -w '%{http_code} %{time_total}' \
	--data-binary "@$T_DIR/big.form" "$SP_BASE/saml/acs")
_t=$(printf '%s\n' "${_r#* }" | awk '{ printf "%d", $1 * 1000 }')
is "a 330 KB POST is read whole and answered (400: not base64)" "${_r%% *}" 400
ok "... in well under a second ($_t ms)" test "$_t" -lt 800

# ---------- who holds the TLS sessions ----------
WPID=$(web_pid)
ok "idgated has a web process" test -n "$WPID"
WPID=${WPID:-0}
_uid=$(id -u _idgate)
is "it runs as _idgate (real, effective, saved, fs uid)" "$(status_field "$WPID" Uid)" \
	"$(printf '%s\t%s\t%s\t%s' "$_uid" "$_uid" "$_uid" "$_uid")"
is "... with no supplementary groups" "$(status_field "$WPID" Groups)" ""
is "... no effective capabilities" "$(status_field "$WPID" CapEff)" 0000000000000000
is "... no permitted capabilities" "$(status_field "$WPID" CapPrm)" 0000000000000000
is "... NoNewPrivs" "$(status_field "$WPID" NoNewPrivs)" 1
is "... under a seccomp filter (issue 13, item 11)" "$(status_field "$WPID" Seccomp)" 2
like "... and landlock" "$(cat "$T_DIR/daemon.log")" 'idgated-web.*sandbox: landlock ABI [0-9]+'
unlike "... holding no descriptor of idgated's (store, audit log, sockets, TLS key file)" \
	"$(ls -l "/proc/$WPID/fd/" 2>&1)" "state\.db|audit\.log|api\.sock|pam\.sock|server\.key|No such"
ok "... a lower priority than idgated ($(nice_of "$WPID") > $(nice_of "$T_PID"))" \
	test "$(nice_of "$WPID")" -gt "$(nice_of "$T_PID")"
(sleep 3 | openssl s_client -quiet -connect "127.0.0.1:$SP_PORT" >/dev/null 2>&1) &
_hold=$!
for _i in $(seq 1 50); do
	_est=$(ss -Htnp state established "( sport = :$SP_PORT )")
	[ -n "$_est" ] && break
	sleep 0.1
done
like "the TLS session is held by the web process" "$_est" "pid=$WPID,"
unlike "... and not by idgated" "$_est" "pid=$T_PID,"
wait "$_hold"

# ---------- killed, it is restarted; the PAM login in idgated survives ----------
saml_start alice
A_HANDLE=$HANDLE A_LINK=$LINK
kill -KILL "$WPID"
_new=
for _i in $(seq 1 100); do
	_new=$(web_pid) && [ "$_new" != "$WPID" ] && metadata_time | grep -q '^200 ' && break
	_new=
	sleep 0.1
done
ok "the web process is restarted" test -n "$_new"
like "... and idgated says why" "$(cat "$T_DIR/daemon.log")" "SAML web process: it exited; restarting it"
probe saml-wait alice "handle=$A_HANDLE"
like "alice's login, started before, still waits" "$OUT" "^status pending"
browser_open "$A_LINK"
is "... its link still opens (303 to the IdP)" "$OPEN_CODE" 303
browser_signin alice alice-pw-7c1e
browser_post
is "... the ACS takes the response" "$ACS_CODE" 200
probe saml-wait alice "handle=$A_HANDLE"
like "... and alice's login is done" "$OUT" "^status ok"
like "the audit names the browser's address" "$(cat "$T_DIR/log/audit.log")" \
	'"result":"ok".*src=127\.0\.0\.1'

# ---------- idgated does not trust it: any frame out of the protocol ends it ----------
# Frames are written into the web process's own end of the socketpair (pidfd_getfd, as root),
# as a compromised web process could. A well-formed question first: answered, nothing ended.
cat >"$T_DIR/inject.py" <<'PY'
import ctypes, os, struct, sys
def field(tag, val): return struct.pack('>HI', tag, len(val)) + val
def u32(tag, v): return field(tag, struct.pack('>I', v))
def u64(tag, v): return field(tag, struct.pack('>Q', v))
def st(tag, v): return field(tag, v.encode() + b'\0')
code, src = '0123456789abcdef' * 2, '127.0.0.1'
bodies = {
	'good_open': u32(1, 3) + u64(2, 7001) + st(20, code) + st(21, src),
	'garbage': struct.pack('>HI', 1, 9) + b'\0',
	'unknown_op': u32(1, 99) + u64(2, 7002),
	'bad_base64': u32(1, 4) + u64(2, 7003) + st(22, 'PHNhbWw+!!!!') + st(21, src),
	'bad_src': u32(1, 3) + u64(2, 7004) + st(20, code) + st(21, 'evil.example'),
	'bad_code': u32(1, 3) + u64(2, 7005) + st(20, '../../etc/passwd' * 2) + st(21, src),
	'extra_field': u32(1, 3) + u64(2, 7006) + st(20, code) + st(21, src) + st(31, 'hi'),
	'oversized': b'',
}
body = bodies[sys.argv[2]]
frame = struct.pack('>I', 64 << 20 if sys.argv[2] == 'oversized' else len(body)) + body
libc = ctypes.CDLL(None, use_errno=True)
pidfd = libc.syscall(434, int(sys.argv[1]), 0)		# pidfd_open
fd = libc.syscall(438, pidfd, 3, 0) if pidfd >= 0 else -1	# pidfd_getfd: its fd 3
if fd < 0:
	sys.exit(2)
os.write(fd, frame)
PY
# wait_new_web OLD: a web process other than OLD serves (sets WPID); false after 10 s.
wait_new_web() {
	for _i in $(seq 1 100); do
		WPID=$(web_pid) && [ "$WPID" != "$1" ] && metadata_time | grep -q '^200 ' && return 0
		sleep 0.1
	done
	return 1
}
WPID=$(web_pid)
if command -v python3 >/dev/null 2>&1 && python3 "$T_DIR/inject.py" "$WPID" good_open; then
	sleep 1
	is "a well-formed question from the web process is answered; it is not ended" \
		"$(web_pid)" "$WPID"
	_n=0
	for _kind in garbage unknown_op bad_base64 bad_src bad_code extra_field oversized; do
		_old=$WPID
		python3 "$T_DIR/inject.py" "$_old" "$_kind"
		ok "a frame out of the protocol ($_kind): the web process is ended and restarted" \
			wait_new_web "$_old"
		_n=$((_n + 1))
	done
	is "... idgated says so each time" \
		"$(grep -Ec "SAML web process: it sent (a malformed or unexpected|an oversized) frame" "$T_DIR/daemon.log")" "$_n"
	ok "idgated is still up" ping_quiet
else
	pass "# SKIP python3 or pidfd_getfd is not available: no frames injected"
fi

# ---------- it dies with idgated ----------
_new=$(web_pid)
daemon_kill
_gone=1
for _i in $(seq 1 50); do
	kill -0 "${_new:-0}" 2>/dev/null || { _gone=0; break; }
	sleep 0.1
done
is "SIGKILL to idgated ends its web process too (the death signal survives the uid change)" \
	"$_gone" 0

# ---------- a privileged port: idgated binds it, the unprivileged process serves it ----------
if [ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ]; then
	saml_config
	sed -i -e "s|^port = .*|port = 443|" -e "s|^base_url = .*|base_url = https://127.0.0.1|" \
		"$T_DIR/idgate.conf"
	ok "idgated starts with [saml] port = 443" daemon_start
	run curl -sS --cacert "$CA" --max-time 10 "https://127.0.0.1/saml/metadata"
	like "... and its web process serves it" "$OUT" "Location=\"https://127.0.0.1/saml/acs\""
	is "... as _idgate" "$(status_field "$(web_pid)" Uid | cut -f1)" "$_uid"
	daemon_stop
else
	pass "# SKIP not in a network namespace of our own: port 443 is not ours to take"
fi
done_testing
