#!/bin/sh
# mkcerts.sh OUTDIR — a throw-away CA and a server certificate for the test IdP.
#   OUTDIR/ca.pem  ca.key      the CA (give ca.pem to clients: curl --cacert, CURLOPT_CAINFO)
#   OUTDIR/server.pem server.key  the server certificate, SAN IP:127.0.0.1 and DNS:localhost,
#                                 signed by the CA (give to server.mjs --cert/--key)
# Idempotent: an existing, complete set in OUTDIR is left alone (delete OUTDIR to remake).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
out=$1
mkdir -p "$out"

if [ -s "$out/ca.pem" ] && [ -s "$out/server.pem" ] && [ -s "$out/server.key" ]; then
	exit 0
fi

umask 077
tmp=$(mktemp -d "$out/.mkcerts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
	-subj "/CN=idgate test CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null

openssl req -newkey rsa:2048 -nodes -sha256 \
	-subj "/CN=localhost" \
	-keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null

cat >"$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT

openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
	-CAcreateserial -days 3650 -sha256 -extfile "$tmp/ext.cnf" \
	-out "$tmp/server.pem" 2>/dev/null

chmod 644 "$tmp/ca.pem" "$tmp/server.pem"
mv "$tmp/ca.key" "$tmp/ca.pem" "$tmp/server.key" "$tmp/server.pem" "$out/"
