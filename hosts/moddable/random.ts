// Random bytes from the part's TRNG through random.c (XS in C): getrandom(2) on the Linux simulator,
// arc4random_buf on macOS, esp_fill_random on ESP32 (RF on or the bootloader's entropy), sys_csrand_get on
// Zephyr. Another platform fails to compile with a line saying so: a board without a TRNG cannot hold keys.
const fill = native('xs_ais_random_fill') as (buffer: ArrayBuffer, offset: number, length: number) => void;

export function trngFill(out: Uint8Array): void {
  fill(out.buffer as ArrayBuffer, out.byteOffset, out.length);
}
