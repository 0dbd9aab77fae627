#!/usr/bin/env bash
# Writes test/vectors/ais-envelope.json: AIS key agreement, key derivation and encrypted envelopes
# (docs/protocol.md §1 and §3.2) made by a THIRD tool, independent of the two implementations it checks
# (src/: tweetnacl + noble; emulator/ais/crypto.ts: node:crypto).
#
# Who makes which value:
#   X25519 key pairs        openssl genpkey -algorithm X25519; raw bytes cut from `openssl pkey` DER output
#   shared secret           openssl pkeyutl -derive, both ways (device->service and service->device must agree)
#   16-byte key (HKDF)      openssl kdf HKDF, digest SHA256, no salt, no info, 32 bytes out, first 16 kept
#   IVs, audio bytes        openssl rand
#   ciphertext + E_K(J0)    openssl enc -aes-{128,256}-ctr with counter block J0 = IV || 00000001 over
#                           16 zero bytes || plaintext: the first output block is E_K(J0), the rest is GCM's
#                           GCTR from inc32(J0) (OpenSSL's CTR carries across all 128 bits, GCM's inc32 only
#                           across the low 32; they differ only past 2^32 - 2 blocks, far beyond these messages)
#   hash key H = E_K(0^128) openssl enc -aes-{128,256}-ecb -nopad
#   GCM tag                 GHASH written here in Python stdlib integers (NIST SP 800-38D Algorithm 1/2):
#                           tag = E_K(J0) xor GHASH_H(C || pad || 0^64 || [8*len(C)]_64), no AAD
#   envelope assembly, JSON Python stdlib
# Why not python3 `cryptography` (AESGCM)? It wraps OpenSSL's own GCM, the same code node:crypto runs; building
# GCM from the block cipher with our own GHASH checks the construction itself. OpenSSL still provides AES,
# X25519 and HKDF here, as it does for node:crypto; the src/ side uses none of it.
# Self-check first: the same pipeline must reproduce McGrew & Viega's published GCM test case 3 (AES-128)
# and test case 14 (AES-256) byte for byte, or the script stops.
#
# Usage: test/vectors/make-ais-vectors.sh [output.json]   (needs openssl 3, xxd, python3)
# Each run draws fresh keys and IVs; the committed JSON is one such run.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/ais-envelope.json}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

hex() { xxd -p -c 1000000 | tr -d '\n'; }
unhex() { xxd -r -p; }
# u32 little-endian hex of a decimal number
le32() { local h; h=$(printf '%08x' "$1"); printf '%s' "${h:6:2}${h:4:2}${h:2:2}${h:0:2}"; }
zeros16=00000000000000000000000000000000

# E_K(J0) || GCTR ciphertext for key, IV (hex) and plaintext (hex), via OpenSSL CTR mode.
ctr() { # key iv plaintext
  local bits=$(( ${#1} * 4 ))
  printf '%s%s' "$zeros16" "$3" | unhex | openssl enc -aes-$bits-ctr -K "$1" -iv "${2}00000001" -nopad | hex
}
hashkey() { # key
  local bits=$(( ${#1} * 4 ))
  printf '%s' "$zeros16" | unhex | openssl enc -aes-$bits-ecb -K "$1" -nopad | hex
}

# One line per GCM computation for the Python step: name key iv plaintext ctr-output H
gcm_line() { # name key iv plaintext
  printf '%s %s %s %s %s %s\n' "$1" "$2" "$3" "${4:--}" "$(ctr "$2" "$3" "$4")" "$(hashkey "$2")"
}

# --- self-check inputs (McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 3 and 14) ---
tc3_key=feffe9928665731c6d6a8f9467308308
tc3_iv=cafebabefacedbaddecaf888
tc3_p=d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255
tc14_key=0000000000000000000000000000000000000000000000000000000000000000
tc14_iv=000000000000000000000000
tc14_p=00000000000000000000000000000000
{
  gcm_line selfcheck-tc3 "$tc3_key" "$tc3_iv" "$tc3_p"
  gcm_line selfcheck-tc14 "$tc14_key" "$tc14_iv" "$tc14_p"
} > "$work/gcm.txt"

# --- key agreement (§1) ---
openssl genpkey -algorithm X25519 -out "$work/device.pem" 2>/dev/null
openssl genpkey -algorithm X25519 -out "$work/service.pem" 2>/dev/null
openssl pkey -in "$work/device.pem" -pubout -out "$work/device.pub.pem"
openssl pkey -in "$work/service.pem" -pubout -out "$work/service.pub.pem"
# The last 32 bytes of the PKCS#8 / SPKI DER encodings are the raw RFC 7748 private scalar / u-coordinate.
device_private=$(openssl pkey -in "$work/device.pem" -outform DER | tail -c 32 | hex)
device_public=$(openssl pkey -in "$work/device.pem" -pubout -outform DER | tail -c 32 | hex)
service_private=$(openssl pkey -in "$work/service.pem" -outform DER | tail -c 32 | hex)
service_public=$(openssl pkey -in "$work/service.pem" -pubout -outform DER | tail -c 32 | hex)
shared=$(openssl pkeyutl -derive -inkey "$work/device.pem" -peerkey "$work/service.pub.pem" | hex)
shared_service=$(openssl pkeyutl -derive -inkey "$work/service.pem" -peerkey "$work/device.pub.pem" | hex)
[ "$shared" = "$shared_service" ] || { echo "X25519: device and service sides disagree" >&2; exit 1; }
key32=$shared
hkdf32=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:"$shared" HKDF | tr -d ':\n' | tr 'A-F' 'a-f')
key16=${hkdf32:0:32}

# --- messages: name algorithm sequence innerSequence body-hex ---
text() { printf '%s' "$1" | hex; }
mic_frame=$(openssl rand -hex 640)
marker_entry="0400000001000000$(le32 42)"   # speaker marker entry: length 4, type 1, count 0, marker 42 (§3.3)
mic_entry="$(le32 648)00000000$(le32 6400)00000000${mic_frame}" # mic entry: length 8+640, type 0, offset 6400
cat > "$work/messages.txt" <<EOF
directive-32 ECDH_CURVE_25519_32_BYTE 0 1 $(text '{"directives":[{"header":{"name":"SetAttentionState","messageId":"4c5f6a7b-0000-4000-8000-00000000000a"},"payload":{"state":"THINKING"}}]}')
event-32 ECDH_CURVE_25519_32_BYTE 1 1 $(text '{"events":[{"header":{"name":"SynchronizeState","messageId":"Ab3dE6gH"},"payload":{}}]}')
empty-at-u32-max-32 ECDH_CURVE_25519_32_BYTE 4294967295 1 -
marker-32 ECDH_CURVE_25519_32_BYTE 16909060 1 $marker_entry
microphone-16 ECDH_CURVE_25519_16_BYTE_SHA256 7 1 $mic_entry
one-block-16 ECDH_CURVE_25519_16_BYTE_SHA256 2 1 $(text '{"a":123456}')
legacy-directive-16 ECDH_CURVE_25519_16_BYTE_SHA256 3 0 $(text '{"directives":[{"header":{"name":"CloseMicrophone","messageId":"m-3"}}]}')
EOF

while read -r name algorithm seq inner body; do
  [ "$body" = "-" ] && body=""
  if [ "$algorithm" = ECDH_CURVE_25519_32_BYTE ]; then key=$key32; else key=$key16; fi
  iv=$(openssl rand -hex 12)
  plaintext=$body
  [ "$inner" = 1 ] && plaintext="$(le32 "$seq")$body"
  gcm_line "$name" "$key" "$iv" "$plaintext" >> "$work/gcm.txt"
done < "$work/messages.txt"

OPENSSL_VERSION="$(openssl version)" python3 - "$work/gcm.txt" "$work/messages.txt" "$out" \
  "$device_private" "$device_public" "$service_private" "$service_public" "$shared" "$key32" "$key16" <<'PY'
import json, os, sys

gcm_file, messages_file, out_file = sys.argv[1:4]
device_private, device_public, service_private, service_public, shared, key32, key16 = sys.argv[4:11]

R = 0xE1 << 120  # x^128 + x^7 + x^2 + x + 1, bit-reflected as GCM numbers its bits (SP 800-38D §6.3)

def gf_mult(x, y):
    z, v = 0, x
    for i in range(127, -1, -1):  # bits of y, most significant (GCM's bit 0) first
        if (y >> i) & 1:
            z ^= v
        v = (v >> 1) ^ R if v & 1 else v >> 1
    return z

def ghash(h, data):
    y = 0
    for i in range(0, len(data), 16):
        y = gf_mult(y ^ int.from_bytes(data[i:i + 16], 'big'), h)
    return y

def tag_of(ciphertext, h, ekj0):
    padded = ciphertext + bytes(-len(ciphertext) % 16)
    lengths = (0).to_bytes(8, 'big') + (8 * len(ciphertext)).to_bytes(8, 'big')  # no AAD
    s = ghash(int.from_bytes(h, 'big'), padded + lengths)
    return (s ^ int.from_bytes(ekj0, 'big')).to_bytes(16, 'big')

gcm = {}
for line in open(gcm_file):
    name, key, iv, plaintext, ctr_out, h = line.split()
    ctr_out = bytes.fromhex(ctr_out)
    ciphertext = ctr_out[16:]
    gcm[name] = (bytes.fromhex(iv), ciphertext, tag_of(ciphertext, bytes.fromhex(h), ctr_out[:16]))

expected = {
    'selfcheck-tc3': ('42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e'
                      '21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985',
                      '4d5c2af327cd64a62cf35abd2ba6fab4'),
    'selfcheck-tc14': ('cea7403d4d606b6e074ec5d3baf39d18', 'd0d1c8a799996bf0265b98b5d48ab919'),
}
for name, (c, t) in expected.items():
    _, ciphertext, tag = gcm[name]
    if ciphertext.hex() != c or tag.hex() != t:
        sys.exit(f'self-check {name} failed: got {ciphertext.hex()} / {tag.hex()}, expected {c} / {t}')

messages = []
for line in open(messages_file):
    name, algorithm, seq, inner, body = line.split()
    body = '' if body == '-' else body
    seq = int(seq)
    iv, ciphertext, tag = gcm[name]
    envelope = seq.to_bytes(4, 'little') + iv + tag + ciphertext
    entry = {
        'name': name,
        'algorithm': algorithm,
        'sequenceNumber': seq,
        'innerSequence': inner == '1',
        'iv': iv.hex(),
        'body': body,
    }
    raw = bytes.fromhex(body)
    if raw[:1] == b'{':
        entry['bodyText'] = raw.decode('utf-8')
    entry['envelope'] = envelope.hex()
    messages.append(entry)

doc = {
    'about': 'AIS key agreement, key derivation and envelopes (docs/protocol.md §1, §3.2) made by '
             'test/vectors/make-ais-vectors.sh: OpenSSL CLI (X25519, HKDF, AES-CTR/ECB) and a Python '
             'stdlib GHASH for the GCM tag. Hex strings; keys are raw RFC 7748 little-endian bytes.',
    'tool': os.environ['OPENSSL_VERSION'] + '; Python ' + sys.version.split()[0],
    'x25519': {
        'devicePrivateKey': device_private,
        'devicePublicKey': device_public,
        'servicePrivateKey': service_private,
        'servicePublicKey': service_public,
        'sharedSecret': shared,
    },
    'keys': {'ECDH_CURVE_25519_32_BYTE': key32, 'ECDH_CURVE_25519_16_BYTE_SHA256': key16},
    'messages': messages,
}
with open(out_file, 'w') as f:
    json.dump(doc, f, indent=2, ensure_ascii=False)
    f.write('\n')
print(f'wrote {out_file}: {len(messages)} messages, self-checks passed')
PY
