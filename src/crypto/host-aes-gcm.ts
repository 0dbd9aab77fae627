// The AES-GCM that createPortableCrypto composes (portable.ts): noble's on Node. The XS hosts, xsrun and the
// Cortex-M image, load hosts/xs/aes-gcm.js in this module's place (HOST_MODULES in hosts/xs/modules.mjs), with
// native/aes_gcm.c behind it, so noble's AES and its 1.3 MB of tables never load there.
export { nobleAesGcm as hostAesGcm } from './aes-gcm.js';
