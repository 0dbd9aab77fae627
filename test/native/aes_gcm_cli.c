/*
 * Test driver for native/aes_gcm.c (test/native/aes-gcm.test.ts builds it with the host's cc): one request per
 * line on stdin, one answer per line on stdout, all hex ("-" is empty).
 *   seal <key> <iv> <aad> <plaintext>         -> <ciphertext> <tag>
 *   open <key> <iv> <aad> <ciphertext> <tag>  -> ok <plaintext> | bad-tag <output after failure>
 * A key of the wrong size answers bad-key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aes_gcm.h"

static size_t unhex(const char* text, uint8_t* out)
{
	size_t n = 0;
	if (!strcmp(text, "-"))
		return 0;
	for (; text[0] && text[1]; text += 2)
		sscanf(text, "%2hhx", &out[n++]);
	return n;
}

static void hex(const uint8_t* bytes, size_t n)
{
	size_t i;
	if (!n)
		fputs("-", stdout);
	for (i = 0; i < n; i++)
		printf("%02x", bytes[i]);
}

int main(void)
{
	static char line[1 << 20];
	static uint8_t key[64], iv[64], aad[1 << 17], in[1 << 17], out[1 << 17], tag[64];
	char op[8], *fields[5];
	while (fgets(line, sizeof(line), stdin)) {
		int count = 0, status;
		size_t keyBytes, ivBytes, aadBytes, bytes;
		char* token = strtok(line, " \n");
		if (!token)
			continue;
		snprintf(op, sizeof(op), "%s", token);
		while (count < 5 && (token = strtok(NULL, " \n")))
			fields[count++] = token;
		if (count < 4) {
			puts("bad-request");
			continue;
		}
		keyBytes = unhex(fields[0], key);
		ivBytes = unhex(fields[1], iv);
		aadBytes = unhex(fields[2], aad);
		bytes = unhex(fields[3], in);
		if (ivBytes != AES_GCM_IV_BYTES) {
			puts("bad-iv");
			continue;
		}
		if (!strcmp(op, "seal")) {
			status = aes_gcm_seal(key, keyBytes, iv, aadBytes ? aad : NULL, aadBytes, in, bytes, out, tag);
			if (status == AES_GCM_BAD_KEY) { puts("bad-key"); continue; }
			hex(out, bytes); fputs(" ", stdout); hex(tag, 16); puts("");
		}
		else if (count == 5) {
			memset(out, 0xA5, bytes);
			unhex(fields[4], tag);
			status = aes_gcm_open(key, keyBytes, iv, aadBytes ? aad : NULL, aadBytes, in, bytes, tag, out);
			if (status == AES_GCM_BAD_KEY) { puts("bad-key"); continue; }
			fputs(status == AES_GCM_OK ? "ok " : "bad-tag ", stdout); hex(out, bytes); puts("");
		}
		else
			puts("bad-request");
		fflush(stdout);
	}
	return 0;
}
