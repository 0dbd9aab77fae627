/* The size checks of the AES-GCM natives (aes_gcm.h), one for every binding: xsrun's and the image's
 * (hosts/xs/xr_crypto.c) and the Moddable build's (hosts/moddable/gcm.c). */
#include <stdio.h>
#include "aes_gcm.h"

int aes_gcm_check_sizes(size_t key_bytes, size_t iv_bytes, size_t tag_bytes, size_t bytes, size_t out_bytes, char reason[AES_GCM_REASON_BYTES])
{
	if (key_bytes != 16 && key_bytes != 24 && key_bytes != 32)
		snprintf(reason, AES_GCM_REASON_BYTES, "AES key expected 16 or 24 or 32 bytes, got %d", (int)key_bytes);
	else if (iv_bytes != AES_GCM_IV_BYTES)
		snprintf(reason, AES_GCM_REASON_BYTES, "AES-GCM IV expected %d bytes, got %d", AES_GCM_IV_BYTES, (int)iv_bytes);
	else if (tag_bytes != AES_GCM_TAG_BYTES)
		snprintf(reason, AES_GCM_REASON_BYTES, "AES-GCM tag expected %d bytes, got %d", AES_GCM_TAG_BYTES, (int)tag_bytes);
	else if (out_bytes != bytes)
		snprintf(reason, AES_GCM_REASON_BYTES, "AES-GCM output expected %d bytes, got %d", (int)bytes, (int)out_bytes);
	else
		return 0;
	return -1;
}
