#!/usr/bin/env bash
# Makes the emulator's DEVELOPMENT PKI: a CA and a server certificate for 127.0.0.1 / localhost, so the emulator
# serves HTTPS by default with nothing but what `npm install` brings. These keys are public, in the repository:
# they protect nothing and must never be trusted outside local development. Run again to renew (10 years).
set -euo pipefail
cd "$(dirname "$0")"
cat > openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
CNF
openssl req -x509 -config openssl.cnf -extensions ca -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout ca.key -out ca.pem -subj "/CN=ais-mcu emulator DEVELOPMENT CA (public key, not secret)" -days 3650
openssl req -new -config openssl.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server.key -out server.csr -subj "/CN=localhost"
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 0x$(openssl rand -hex 8) -days 3650 \
  -extfile openssl.cnf -extensions server -out server.pem
rm -f server.csr openssl.cnf ca.key   # the CA key is not kept: renewing makes a new CA
