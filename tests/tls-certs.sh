#!/bin/sh
# tests/tls-certs.sh DIR: makes the TLS test certificates in DIR, fresh at
# every run (never committed, so none expires): ECDSA P-256 throughout.
#
#   ca.pem ca-key.pem            the test CA
#   server.pem server-key.pem    CN=localhost, SAN localhost, 127.0.0.1, ::1; signed by the CA
#   server2.pem server2-key.pem  the same names, CN=localhost-2: the reload test's new certificate
#   server-chain.pem             server.pem then ca.pem (a chain file)
#   server-key-enc.pem           server-key.pem encrypted (PKCS#8, AES-256) with password-file
#   password-file                "test secret" and a line end
#   client.pem client-key.pem    CN=alice,O=Example: a client certificate from the CA
#   rogue.pem rogue-key.pem      CN=mallory: a client certificate from another CA
# Needs the openssl command (Debian's openssl package). Exit 77 without it.
set -eu
dir=$1
command -v openssl >/dev/null 2>&1 || { echo "tls-certs.sh: no openssl command" >&2; exit 77; }
mkdir -p "$dir"
cd "$dir"
key () { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
ext=ext.cnf
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n' > client.ext
printf '[req]\ndistinguished_name=dn\n[dn]\n[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' > "$ext"

ca () { # ca NAME CN
  key "$1-key.pem"
  openssl req -new -x509 -key "$1-key.pem" -out "$1.pem" -days 2 -subj "/CN=$2" \
    -config "$ext" -extensions ca 2>/dev/null
}
leaf () { # leaf NAME SUBJECT CA EXTFILE
  key "$1-key.pem"
  openssl req -new -key "$1-key.pem" -out "$1.csr" -subj "$2" -config "$ext" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3-key.pem" -CAcreateserial \
    -out "$1.pem" -days 2 -extfile "$4" 2>/dev/null
  rm -f "$1.csr"
}
ca ca "libsocketserver test CA"
ca other-ca "another CA"
leaf server /CN=localhost ca server.ext
leaf server2 /CN=localhost-2 ca server.ext
leaf client "/O=Example/CN=alice" ca client.ext
leaf rogue /CN=mallory other-ca client.ext
cat server.pem ca.pem > server-chain.pem
printf 'test secret\n' > password-file
openssl pkcs8 -topk8 -v2 aes-256-cbc -in server-key.pem -out server-key-enc.pem -passout pass:"test secret" 2>/dev/null
rm -f other-ca-key.pem ./*.srl
