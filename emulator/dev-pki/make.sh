#!/usr/bin/env bash
# Makes the emulator's DEVELOPMENT PKI: a CA and a server certificate for 127.0.0.1 / localhost, so the emulator
# serves HTTPS by default with nothing but what `npm install` brings. These keys are public, in the repository:
# they protect nothing and must never be trusted outside local development. Run again to renew (10 years).
#   ca.pem, ca.key    the CA, its key kept to renew the server certificate. It never signs client certificates:
#                     its key is public, so the emulator's device CA (emulator/device-ca.ts) is made per data folder
#   server.pem        the server certificate followed by the CA: a chain, as Moddable's TLS wants it
#   server.key        its key
# What each TLS client checks (docs/moddable.md): Moddable's modules/crypt/ssl/ssl_cert.js (SDK 8.2.3) checks the
# server's name only when the server sends a chain, and then looks its issuer up by the Authority Key Identifier
# of the chain's last certificate, so the CA carries one (its own Subject Key Identifier); mbedTLS (xsrun) and
# Node check the subjectAltName, IP:127.0.0.1 and DNS:localhost.
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
authorityKeyIdentifier = keyid:always
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = IP:127.0.0.1, DNS:localhost
CNF
openssl req -x509 -config openssl.cnf -extensions ca -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout ca.key -out ca.pem -subj "/CN=ais-mcu emulator DEVELOPMENT CA (public key, not secret)" -days 3650
openssl req -new -config openssl.cnf -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout server.key -out server.csr -subj "/CN=localhost"
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 0x$(openssl rand -hex 8) -days 3650 \
  -extfile openssl.cnf -extensions server -out server.pem
cat ca.pem >> server.pem
rm -f server.csr openssl.cnf
