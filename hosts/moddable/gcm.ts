// AES-GCM from native/aes_gcm.c through gcm.c (XS in C) for the crypto port, behind the port's argument checks
// (src/crypto/native-aes-gcm.ts). Every board of manifest.json compiles it: the C is portable, and noble's AES
// builds 1.3 MB of tables on XS.
import type { AesGcm } from '../../src/crypto/aes-gcm-contract.js';
import { nativeAesGcm } from '../../src/crypto/native-aes-gcm.js';

export const nativeGcm: AesGcm = nativeAesGcm({
  aesGcmSeal: native('xs_ais_gcm_seal') as AesGcm['aesGcmSeal'],
  aesGcmOpen: native('xs_ais_gcm_open') as AesGcm['aesGcmOpen'],
});
