#!/bin/bash
# tests/test-tls-clients.sh: ss-echo over TLS against real clients:
# openssl s_client (tcp and a Unix socket), Python's ssl module (TLS 1.3
# and TLS 1.2), and a plain-text client on the TLS port (refused with a
# log line, the server goes on). Exit 77 (skip) in a build without TLS or
# without the openssl command or python3; loopback and a temporary folder
# only; every step bounded by timeout(1).
set -u
B=${SS_BUILDDIR:-.}
S=${SS_SRCDIR:-..}
# Usage errors, in any build.
"$B/servers/ss-echo" --tls-key=key.pem 2> /tmp/ss-tls-usage.$$; status=$?
grep -q -- '--tls-key requires --tls-cert' /tmp/ss-tls-usage.$$ && [ $status -eq 2 ] \
  || { echo "FAIL: --tls-key alone: status $status: $(cat /tmp/ss-tls-usage.$$)"; rm -f /tmp/ss-tls-usage.$$; exit 1; }
"$B/servers/ss-echo" --transport=udp --tls-cert=cert.pem 2> /tmp/ss-tls-usage.$$; status=$?
grep -q 'stream transport' /tmp/ss-tls-usage.$$ && [ $status -eq 2 ] \
  || { echo "FAIL: --tls-cert on udp: status $status: $(cat /tmp/ss-tls-usage.$$)"; rm -f /tmp/ss-tls-usage.$$; exit 1; }
if ! grep -q '^#define HAVE_TLS 1' "$B/config.h"; then
  # Built without TLS: ss-echo says so (exit 1), and that is all there is to test.
  "$B/servers/ss-echo" --address=127.0.0.1:0 --tls-cert=cert.pem 2> /tmp/ss-tls-usage.$$; status=$?
  grep -q 'built without TLS' /tmp/ss-tls-usage.$$ && [ $status -eq 1 ] \
    || { echo "FAIL: without TLS: status $status: $(cat /tmp/ss-tls-usage.$$)"; rm -f /tmp/ss-tls-usage.$$; exit 1; }
  rm -f /tmp/ss-tls-usage.$$
  echo "ok: built without TLS, and ss-echo says so"
  exit 0
fi
rm -f /tmp/ss-tls-usage.$$
command -v openssl >/dev/null || { echo "no openssl: skipped"; exit 77; }
command -v python3 >/dev/null || { echo "no python3: skipped"; exit 77; }
DIR=$(mktemp -d /tmp/ss-tls-clients.XXXXXX)
PIDS=()
cleanup () { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$DIR"; }
trap cleanup EXIT
fail () { echo "FAIL: $*"; for f in "$DIR"/*.err; do echo "== $f"; cat "$f"; done; exit 1; }
sh "$S/tests/tls-certs.sh" "$DIR/certs" || fail "could not make the certificates"
C=$DIR/certs

# start NAME ARGS...: ss-echo in the background; sets PORT (or the socket path) from its banner.
start () {
  local name=$1
  shift
  "$B/servers/ss-echo" "$@" --tls-cert="$C/server.pem" --tls-key="$C/server-key.pem" \
    > "$DIR/$name.out" 2> "$DIR/$name.err" &
  PIDS+=($!)
  for _ in $(seq 100); do
    grep -q '^Serving on' "$DIR/$name.out" && break
    sleep 0.05
  done
  grep -q '^Serving on' "$DIR/$name.out" || fail "$name: no banner"
  PORT=$(sed -n 's/^Serving on .* port \([0-9]*\) \.\.\.$/\1/p' "$DIR/$name.out")
}

start tcp --strategy=threadpooling --address=127.0.0.1:0
# openssl s_client: verifies the certificate chain and the name, echoes a line.
out=$(printf 'hello from s_client\n' | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
        -CAfile "$C/ca.pem" -verify_return_error -verify_hostname localhost -no_ign_eof -quiet 2>"$DIR/s_client.err")
[ "$out" = "hello from s_client" ] || fail "s_client got '$out'"

# Python's ssl module, TLS 1.3 and TLS 1.2.
for v in TLSv1_3 TLSv1_2; do
  out=$(timeout 10 python3 - "$PORT" "$C/ca.pem" "$v" <<'PY' 2>"$DIR/python.err"
import socket, ssl, sys
port, ca, version = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = getattr(ssl.TLSVersion, version)
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"hello from python\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
        print(data.decode().strip(), s.version())
PY
)
  [ "$out" = "hello from python ${v/_/.}" ] || fail "python $v got '$out'"
done

# Plain text on the TLS port: closed at once, a log line, and the server serves on.
out=$(timeout 10 python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
t = time.monotonic()
data = s.recv(100)
print("closed" if not data or data[0] == 0x15 else "got %r" % data, "fast" if time.monotonic() - t < 3 else "slow")
PY
)
[ "$out" = "closed fast" ] || fail "plain HTTP to the TLS port: $out"
for _ in $(seq 50); do grep -q 'plain text' "$DIR/tcp.err" && break; sleep 0.1; done
grep -q 'plain text' "$DIR/tcp.err" || fail "no log line for the plain-text client"
out=$(printf 'still serving\n' | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
        -CAfile "$C/ca.pem" -no_ign_eof -quiet 2>>"$DIR/s_client.err")
[ "$out" = "still serving" ] || fail "after the plain client: '$out'"

# SIGTERM: exit 0.
kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}"; status=$?
[ "$status" -eq 0 ] || fail "ss-echo exited $status on SIGTERM"

# Over a Unix socket, with openssl s_client -unix.
start unix --transport=unix --strategy=threading --address="$DIR/echo.sock"
out=$(printf 'hello over unix\n' | timeout 10 openssl s_client -unix "$DIR/echo.sock" \
        -CAfile "$C/ca.pem" -verify_return_error -no_ign_eof -quiet 2>>"$DIR/s_client.err")
[ "$out" = "hello over unix" ] || fail "s_client over unix got '$out'"
echo "ok: s_client (tcp, unix), python ssl (TLS 1.3, 1.2), plain text refused"
