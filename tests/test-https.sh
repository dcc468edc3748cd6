#!/bin/bash
# tests/test-https.sh: ss-http-server over HTTPS (Python 3.14's --tls-cert,
# --tls-key, --tls-password-file) against real clients: curl --cacert
# (a small and a 1 MiB file over one HTTP/1.1 keep-alive connection, the
# bytes compared), curl refusing an unknown CA, plain HTTP on the HTTPS
# port (refused with a log line, the server serves on), an encrypted key
# with a password file, SIGHUP reloading the certificate (openssl s_client
# reads which one is served) and keeping it when the new file is broken,
# and Python's usage errors. Exit 77 (skip) without curl or openssl; in a
# build without TLS it checks that ss-http-server says so. Loopback and a
# temporary folder only; every client bounded by timeout(1).
set -u
B=${SS_BUILDDIR:-.}
S=${SS_SRCDIR:-..}
HS=$B/servers/ss-http-server
DIR=$(mktemp -d /tmp/ss-https.XXXXXX)
PIDS=()
cleanup () { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$DIR"; }
trap cleanup EXIT
fail () { echo "FAIL: $*"; for f in "$DIR"/*.err; do [ -e "$f" ] && { echo "== $f"; cat "$f"; }; done; exit 1; }

# usage_error EXPECTED ARGS...: status 2 and Python's message.
usage_error () {
  local expected=$1 status
  shift
  "$HS" "$@" > /dev/null 2> "$DIR/usage.txt"; status=$?
  [ $status -eq 2 ] && grep -qF -- "ss-http-server: error: $expected" "$DIR/usage.txt" \
    || fail "ss-http-server $*: status $status: $(cat "$DIR/usage.txt")"
}
usage_error "--tls-key requires --tls-cert to be set" --tls-key key.pem 0
usage_error "--tls-password-file requires --tls-cert to be set" --tls-password-file pw 0
usage_error "Failed to read TLS password file:" --tls-cert c.pem --tls-password-file "$DIR/none" 0
"$HS" --help > "$DIR/help.txt" || fail "--help"
grep -q -- '--tls-password-file PATH' "$DIR/help.txt" || fail "--help has no --tls-password-file"

if ! grep -q '^#define HAVE_TLS 1' "$B/config.h"; then
  "$HS" -b 127.0.0.1 --tls-cert=cert.pem 0 > /dev/null 2> "$DIR/notls.txt"; status=$?
  [ $status -eq 1 ] && grep -q 'built without TLS' "$DIR/notls.txt" \
    || fail "without TLS: status $status: $(cat "$DIR/notls.txt")"
  echo "ok: usage errors; built without TLS, and ss-http-server says so"
  exit 0
fi
command -v curl >/dev/null || { echo "no curl: skipped"; exit 77; }
command -v openssl >/dev/null || { echo "no openssl: skipped"; exit 77; }
sh "$S/tests/tls-certs.sh" "$DIR/certs" || fail "could not make the certificates"
C=$DIR/certs
mkdir "$DIR/www"
printf 'hello over https\n' > "$DIR/www/small.txt"
head -c 1048576 /dev/urandom > "$DIR/www/big.bin"

# start NAME ARGS...: ss-http-server on 127.0.0.1 port 0; sets PORT and PID.
start () {
  local name=$1
  shift
  "$HS" -b 127.0.0.1 -d "$DIR/www" "$@" 0 > "$DIR/$name.out" 2> "$DIR/$name.err" &
  PID=$!
  PIDS+=($PID)
  for _ in $(seq 200); do
    grep -q '^Serving' "$DIR/$name.out" && break
    sleep 0.05
  done
  PORT=$(sed -n 's/^Serving HTTPS on 127\.0\.0\.1 port \([0-9]*\) .*/\1/p' "$DIR/$name.out")
  [ -n "$PORT" ] || fail "$name: banner '$(head -n 1 "$DIR/$name.out")'"
  [ "$(head -n 1 "$DIR/$name.out")" = "Serving HTTPS on 127.0.0.1 port $PORT (https://127.0.0.1:$PORT/) ..." ] \
    || fail "$name: banner '$(head -n 1 "$DIR/$name.out")'"
}
# subject: the subject of the certificate served now, as openssl prints it.
subject () {
  timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername localhost < /dev/null 2>/dev/null \
    | openssl x509 -noout -subject 2>/dev/null
}

start plain -p HTTP/1.1 --tls-cert "$C/server.pem" --tls-key "$C/server-key.pem"
# Two files over one keep-alive connection: the second makes no new connection.
out=$(timeout 20 curl -sS --cacert "$C/ca.pem" -w '%{http_code} %{num_connects} %{ssl_verify_result}\n' \
        -o "$DIR/small.got" "https://localhost:$PORT/small.txt" \
        -o "$DIR/big.got" "https://localhost:$PORT/big.bin" 2> "$DIR/curl.err")
[ "$out" = "$(printf '200 1 0\n200 0 0')" ] || fail "curl: '$out' $(cat "$DIR/curl.err")"
cmp -s "$DIR/www/small.txt" "$DIR/small.got" || fail "small.txt differs"
cmp -s "$DIR/www/big.bin" "$DIR/big.got" || fail "big.bin differs"
grep -q '"GET /big.bin HTTP/1.1" 200 -' "$DIR/plain.err" || fail "no log line for big.bin"
# A client that does not know the CA refuses the server (it is TLS, verified for real).
timeout 20 curl -sS -o /dev/null "https://localhost:$PORT/small.txt" 2> "$DIR/curl-noca.err"; status=$?
[ $status -eq 60 ] || fail "curl without --cacert: status $status $(cat "$DIR/curl-noca.err")"
# Plain HTTP on the HTTPS port: no response, a log line, and the server goes on.
timeout 20 curl -sS -o /dev/null "http://127.0.0.1:$PORT/small.txt" 2> "$DIR/curl-plain.err"; status=$?
[ $status -ne 0 ] || fail "plain HTTP to the HTTPS port got a response"
for _ in $(seq 50); do grep -q 'plain text' "$DIR/plain.err" && break; sleep 0.1; done
grep -q 'plain text' "$DIR/plain.err" || fail "no log line for the plain HTTP client"
out=$(timeout 20 curl -sS --cacert "$C/ca.pem" "https://localhost:$PORT/small.txt" 2>> "$DIR/curl.err")
[ "$out" = "hello over https" ] || fail "after the plain client: '$out'"
kill -INT "$PID"
wait "$PID"; status=$?
[ $status -eq 0 ] || fail "SIGINT: status $status"
grep -q 'Keyboard interrupt received, exiting.' "$DIR/plain.out" || fail "SIGINT: no goodbye line"

# An encrypted key and its password file; the certificate reloaded on SIGHUP.
cp "$C/server.pem" "$DIR/live.pem"
cp "$C/server-key-enc.pem" "$DIR/live-key.pem"
start reload --tls-cert "$DIR/live.pem" --tls-key "$DIR/live-key.pem" --tls-password-file "$C/password-file"
out=$(timeout 20 curl -sS --cacert "$C/ca.pem" "https://localhost:$PORT/small.txt" 2>> "$DIR/curl.err")
[ "$out" = "hello over https" ] || fail "with an encrypted key: '$out'"
case $(subject) in *"CN = localhost") ;; *) fail "before the reload: '$(subject)'" ;; esac
cp "$C/server2.pem" "$DIR/live.pem"
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$C/server2-key.pem" -out "$DIR/live-key.pem" \
  -passout pass:"test secret" 2>/dev/null || fail "could not encrypt server2-key.pem"
kill -HUP "$PID"
for _ in $(seq 100); do grep -q 'SIGHUP: reloaded' "$DIR/reload.err" && break; sleep 0.05; done
grep -q 'SIGHUP: reloaded' "$DIR/reload.err" || fail "no reload line after SIGHUP"
case $(subject) in *"CN = localhost-2") ;; *) fail "after the reload: '$(subject)'" ;; esac
out=$(timeout 20 curl -sS --cacert "$C/ca.pem" "https://localhost:$PORT/small.txt" 2>> "$DIR/curl.err")
[ "$out" = "hello over https" ] || fail "after the reload: '$out'"
# A broken certificate file: the reload fails, says so, and the last good one is served.
echo "not a certificate" > "$DIR/live.pem"
kill -HUP "$PID"
for _ in $(seq 100); do grep -q 'still serving the previous certificate' "$DIR/reload.err" && break; sleep 0.05; done
grep -q 'live.pem.*still serving the previous certificate' "$DIR/reload.err" \
  || fail "no failed-reload line naming the file"
case $(subject) in *"CN = localhost-2") ;; *) fail "after a failed reload: '$(subject)'" ;; esac
kill -TERM "$PID"
wait "$PID"; status=$?
[ $status -eq 0 ] || fail "SIGTERM: status $status"
echo "ok: curl --cacert keep-alive (small + 1 MiB), unknown CA refused, plain HTTP refused, password file, SIGHUP reload"
