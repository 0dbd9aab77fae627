// The XS hosts' AES-GCM (xsrun and the Cortex-M image): native/aes_gcm.c through the global `natives`
// (hosts/xs/xr_crypto.c). hosts/xs/modules.mjs loads this module in place of build/src/crypto/host-aes-gcm.js.
import { nativeAesGcm } from '../../build/src/crypto/native-aes-gcm.js';

export function hostAesGcm() {
  return nativeAesGcm(globalThis.natives);
}
