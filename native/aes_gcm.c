/* AES-GCM: see aes_gcm.h. Words hold AES state columns little-endian (byte 0 in bits 0..7). */
#include <string.h>
#include "aes_gcm.h"

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static uint8_t sbox[256];
/* te[s] = column (2s, s, s, 3s) of MixColumns after SubBytes; the other three rows are rotations of it. */
static uint32_t te[256];
/* x^8 reduction term of the byte GHASH shifts out, times the GCM polynomial. */
static uint16_t reduce8[256];
static int tablesReady = 0;

static uint8_t xtime(uint8_t x)
{
	return (uint8_t)((x << 1) ^ ((x & 0x80) ? 0x1B : 0));
}

/* The S-box from inverses in GF(2^8) (powers of the generator 3) and the affine map of FIPS 197 §5.1.1. */
static void makeTables(void)
{
	uint8_t power[256], logarithm[256];
	unsigned i, x = 1;
	for (i = 0; i < 255; i++) {
		power[i] = (uint8_t)x;
		logarithm[x] = (uint8_t)i;
		x ^= xtime((uint8_t)x);
	}
	for (i = 0; i < 256; i++) {
		unsigned inverse = i ? power[(255 - logarithm[i]) % 255] : 0;
		unsigned s = inverse, rotated = inverse, k;
		for (k = 0; k < 4; k++) {
			rotated = ((rotated << 1) | (rotated >> 7)) & 0xFF;
			s ^= rotated;
		}
		sbox[i] = (uint8_t)(s ^ 0x63);
	}
	for (i = 0; i < 256; i++) {
		uint32_t s = sbox[i], s2 = xtime((uint8_t)s);
		te[i] = s2 | (s << 8) | (s << 16) | ((s2 ^ s) << 24);
	}
	/* Bit k of a byte shifted out of GHASH's low end folds back as 0xE1 at bit 15 - (7 - k) of the top 16. */
	for (i = 0; i < 256; i++) {
		unsigned k, r = 0;
		for (k = 0; k < 8; k++)
			if (i & (1u << k))
				r ^= 0xE100u >> (7 - k);
		reduce8[i] = (uint16_t)r;
	}
	tablesReady = 1;
}

typedef struct {
	uint32_t rk[60];
	int rounds;
} AesKey;

static uint32_t load32le(const uint8_t* p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void store32le(uint8_t* p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static uint32_t subWord(uint32_t w)
{
	return (uint32_t)sbox[w & 0xFF] | ((uint32_t)sbox[(w >> 8) & 0xFF] << 8)
		| ((uint32_t)sbox[(w >> 16) & 0xFF] << 16) | ((uint32_t)sbox[w >> 24] << 24);
}

/* FIPS 197 §5.2; RotWord of a little-endian word is a rotation right by 8. */
static int expandKey(AesKey* aes, const uint8_t* key, size_t keyBytes)
{
	unsigned nk = (unsigned)(keyBytes / 4), i, total;
	uint32_t rcon = 1;
	if (keyBytes != 16 && keyBytes != 24 && keyBytes != 32)
		return AES_GCM_BAD_KEY;
	if (!tablesReady)
		makeTables();
	aes->rounds = (int)nk + 6;
	total = 4 * ((unsigned)aes->rounds + 1);
	for (i = 0; i < nk; i++)
		aes->rk[i] = load32le(key + 4 * i);
	for (i = nk; i < total; i++) {
		uint32_t t = aes->rk[i - 1];
		if (i % nk == 0) {
			t = subWord(ROR(t, 8)) ^ rcon;
			rcon = xtime((uint8_t)rcon);
		}
		else if (nk > 6 && i % nk == 4)
			t = subWord(t);
		aes->rk[i] = aes->rk[i - nk] ^ t;
	}
	return AES_GCM_OK;
}

/* One column of a full round: rows 0..3 of the output come from columns a, b, c, d of the input. */
#define COLUMN(a, b, c, d) (te[(a) & 0xFF] ^ ROR(te[((b) >> 8) & 0xFF], 24) ^ ROR(te[((c) >> 16) & 0xFF], 16) ^ ROR(te[(d) >> 24], 8))
#define LAST(a, b, c, d) ((uint32_t)sbox[(a) & 0xFF] ^ ((uint32_t)sbox[((b) >> 8) & 0xFF] << 8) \
	^ ((uint32_t)sbox[((c) >> 16) & 0xFF] << 16) ^ ((uint32_t)sbox[(d) >> 24] << 24))

static void encryptBlock(const AesKey* aes, const uint8_t in[16], uint8_t out[16])
{
	const uint32_t* rk = aes->rk;
	uint32_t x0 = load32le(in) ^ rk[0], x1 = load32le(in + 4) ^ rk[1];
	uint32_t x2 = load32le(in + 8) ^ rk[2], x3 = load32le(in + 12) ^ rk[3];
	int round;
	for (round = 1; round < aes->rounds; round++) {
		uint32_t y0, y1, y2, y3;
		rk += 4;
		y0 = rk[0] ^ COLUMN(x0, x1, x2, x3);
		y1 = rk[1] ^ COLUMN(x1, x2, x3, x0);
		y2 = rk[2] ^ COLUMN(x2, x3, x0, x1);
		y3 = rk[3] ^ COLUMN(x3, x0, x1, x2);
		x0 = y0; x1 = y1; x2 = y2; x3 = y3;
	}
	rk += 4;
	store32le(out, rk[0] ^ LAST(x0, x1, x2, x3));
	store32le(out + 4, rk[1] ^ LAST(x1, x2, x3, x0));
	store32le(out + 8, rk[2] ^ LAST(x2, x3, x0, x1));
	store32le(out + 12, rk[3] ^ LAST(x3, x0, x1, x2));
}

/* GHASH in GF(2^128) with GCM's reflected bit order, Shoup's 8-bit tables: hl/hh[b] = b·H for every byte b. */
typedef struct {
	uint64_t hl[256], hh[256];
} GhashKey;

typedef struct {
	const GhashKey* key;
	uint8_t y[16];
} Ghash;

static uint64_t load64be(const uint8_t* p)
{
	uint64_t v = 0;
	int i;
	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void store64be(uint8_t* p, uint64_t v)
{
	int i;
	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void ghashKey(GhashKey* g, const uint8_t h[16])
{
	uint64_t vh = load64be(h), vl = load64be(h + 8);
	int i, j;
	g->hl[0] = g->hh[0] = 0;
	g->hl[128] = vl;
	g->hh[128] = vh;
	/* 64·H .. 1·H: each a multiplication by x, which is a right shift in GCM's bit order. */
	for (i = 64; i > 0; i >>= 1) {
		uint64_t carry = (vl & 1) ? 0xE100000000000000ULL : 0;
		vl = (vh << 63) | (vl >> 1);
		vh = (vh >> 1) ^ carry;
		g->hl[i] = vl;
		g->hh[i] = vh;
	}
	for (i = 2; i <= 128; i *= 2) {
		for (j = 1; j < i; j++) {
			g->hh[i + j] = g->hh[i] ^ g->hh[j];
			g->hl[i + j] = g->hl[i] ^ g->hl[j];
		}
	}
}

/* y = (y ^ block) · H, a byte at a time from the last; a short last block is zero-padded. */
static void ghashBlock(Ghash* g, const uint8_t* block, size_t bytes)
{
	uint8_t x[16];
	uint64_t zh, zl;
	int i;
	memcpy(x, g->y, 16);
	for (i = 0; i < (int)bytes; i++)
		x[i] ^= block[i];
	zh = g->key->hh[x[15]];
	zl = g->key->hl[x[15]];
	for (i = 14; i >= 0; i--) {
		unsigned rem = (unsigned)zl & 0xFF;
		zl = (zh << 56) | (zl >> 8);
		zh = (zh >> 8) ^ ((uint64_t)reduce8[rem] << 48) ^ g->key->hh[x[i]];
		zl ^= g->key->hl[x[i]];
	}
	store64be(g->y, zh);
	store64be(g->y + 8, zl);
}

static void ghashBytes(Ghash* g, const uint8_t* data, size_t bytes)
{
	for (; bytes >= 16; data += 16, bytes -= 16)
		ghashBlock(g, data, 16);
	if (bytes)
		ghashBlock(g, data, bytes); /* the last partial block, zero-padded */
}

/* The last key's AES schedule and GHASH table (4.4 KB): the envelope seals and opens a stream of messages under
   one key, so the setup (about 30 k instructions on a Cortex-M7) is paid once per key, not per message. */
static struct {
	int valid;
	size_t keyBytes;
	uint8_t key[32];
	AesKey aes;
	GhashKey ghash;
} cached;

typedef struct {
	const AesKey* aes;
	Ghash ghash;
	uint8_t j0[16];
} Gcm;

static int gcmStart(Gcm* gcm, const uint8_t* key, size_t keyBytes, const uint8_t iv[12], const uint8_t* aad, size_t aadBytes)
{
	if (!cached.valid || cached.keyBytes != keyBytes || memcmp(cached.key, key, keyBytes)) {
		uint8_t h[16] = { 0 };
		cached.valid = 0;
		if (expandKey(&cached.aes, key, keyBytes) != AES_GCM_OK)
			return AES_GCM_BAD_KEY;
		encryptBlock(&cached.aes, h, h);
		ghashKey(&cached.ghash, h);
		memcpy(cached.key, key, keyBytes);
		cached.keyBytes = keyBytes;
		cached.valid = 1;
	}
	gcm->aes = &cached.aes;
	gcm->ghash.key = &cached.ghash;
	memset(gcm->ghash.y, 0, sizeof(gcm->ghash.y));
	memcpy(gcm->j0, iv, 12);
	gcm->j0[12] = gcm->j0[13] = gcm->j0[14] = 0;
	gcm->j0[15] = 1; /* J0 = IV || 0^31 || 1 for a 96-bit IV */
	ghashBytes(&gcm->ghash, aad, aadBytes);
	return AES_GCM_OK;
}

/* GCTR from inc32(J0): the counter is the last 32 bits, big-endian. */
static void gcmCrypt(const Gcm* gcm, const uint8_t* in, size_t bytes, uint8_t* out)
{
	uint8_t counter[16], stream[16];
	uint32_t n = ((uint32_t)gcm->j0[12] << 24) | ((uint32_t)gcm->j0[13] << 16) | ((uint32_t)gcm->j0[14] << 8) | gcm->j0[15];
	size_t at, i;
	memcpy(counter, gcm->j0, 12);
	for (at = 0; at < bytes; at += 16) {
		size_t chunk = bytes - at < 16 ? bytes - at : 16;
		n++;
		counter[12] = (uint8_t)(n >> 24); counter[13] = (uint8_t)(n >> 16); counter[14] = (uint8_t)(n >> 8); counter[15] = (uint8_t)n;
		encryptBlock(gcm->aes, counter, stream);
		for (i = 0; i < chunk; i++)
			out[at + i] = in[at + i] ^ stream[i];
	}
}

/* tag = E(K, J0) ^ GHASH(A || C || [len(A)]64 || [len(C)]64), bit lengths. */
static void gcmTag(Gcm* gcm, size_t aadBytes, size_t bytes, uint8_t tag[16])
{
	uint8_t lengths[16], mask[16];
	int i;
	store64be(lengths, (uint64_t)aadBytes * 8);
	store64be(lengths + 8, (uint64_t)bytes * 8);
	ghashBlock(&gcm->ghash, lengths, 16);
	encryptBlock(gcm->aes, gcm->j0, mask);
	for (i = 0; i < 16; i++)
		tag[i] = gcm->ghash.y[i] ^ mask[i];
}

static void wipe(void* p, size_t bytes)
{
	volatile uint8_t* v = (volatile uint8_t*)p;
	while (bytes--)
		*v++ = 0;
}

int aes_gcm_seal(const uint8_t* key, size_t key_bytes, const uint8_t iv[AES_GCM_IV_BYTES],
	const uint8_t* aad, size_t aad_bytes, const uint8_t* plaintext, size_t bytes,
	uint8_t* out, uint8_t tag[AES_GCM_TAG_BYTES])
{
	Gcm gcm;
	int status = gcmStart(&gcm, key, key_bytes, iv, aad, aad_bytes);
	if (status != AES_GCM_OK)
		return status;
	gcmCrypt(&gcm, plaintext, bytes, out);
	ghashBytes(&gcm.ghash, out, bytes);
	gcmTag(&gcm, aad_bytes, bytes, tag);
	wipe(&gcm, sizeof(gcm));
	return AES_GCM_OK;
}

int aes_gcm_open(const uint8_t* key, size_t key_bytes, const uint8_t iv[AES_GCM_IV_BYTES],
	const uint8_t* aad, size_t aad_bytes, const uint8_t* ciphertext, size_t bytes,
	const uint8_t tag[AES_GCM_TAG_BYTES], uint8_t* out)
{
	Gcm gcm;
	uint8_t expected[16];
	unsigned difference = 0;
	int i, status = gcmStart(&gcm, key, key_bytes, iv, aad, aad_bytes);
	if (status != AES_GCM_OK)
		return status;
	ghashBytes(&gcm.ghash, ciphertext, bytes);
	gcmTag(&gcm, aad_bytes, bytes, expected);
	for (i = 0; i < 16; i++)
		difference |= (unsigned)(expected[i] ^ tag[i]);
	if (difference) {
		memset(out, 0, bytes);
		status = AES_GCM_BAD_TAG;
	}
	else
		gcmCrypt(&gcm, ciphertext, bytes, out);
	wipe(&gcm, sizeof(gcm));
	return status;
}
