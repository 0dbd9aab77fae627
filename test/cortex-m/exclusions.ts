// What the firmware image (hosts/cortex-m, 1 MB of RAM by default) leaves out of the portable suites, and
// why. Plain data: read by hosts/cortex-m/run-tests.mjs on Node and by node-test.ts on the image.

/** A suite whose module graph holds one of these modules does not go into the image. */
export const EXCLUDED_MODULES: Record<string, string> = {
  '@noble/ciphers/aes.js': 'imports @noble/ciphers/aes.js, whose tables take 1.3 MB of heap on XS (docs/xs-host.md); '
    + 'the image composes native/aes_gcm.c instead (src/crypto/host-aes-gcm.ts)',
};

/** Tests registered as skipped on the image, by name: they need more RAM than the part has. */
export const EXCLUDED_TESTS: Record<string, string> = {
  'remaining lengths at every varint edge (127/128/16383/16384/2097151/2097152) take 1 to 4 length bytes':
    'builds 2 MB PUBLISH packets and copies them (generate, parser, deepEqual): several MB, beyond the 1 MB RAM of the image',
  'the device lives through hostile inputs on its AIS topics and answers each as the protocol defines':
    'the AIS fuzzer (test/ais/fuzz.portable.test.ts): a device, a scripted cloud and 10,000 inputs of up to 8 KB with the '
    + 'hand-moved clock\'s record of every timer: the heap fills (measured: memory full at 16 s); it runs on Node and xsrun',
};
