/**
 * CRC-32 as zlib, gzip and PNG compute it (reflected polynomial 0xEDB88320,
 * initial and final XOR 0xFFFFFFFF), so Python's zlib.crc32 gives the same
 * numbers for checkpoints that tools/torch_interop.py writes. Plain
 * TypeScript, no imports: the sampler bundle and the playground carry it.
 */

// Slicing-by-8 (table k, at k * 256, advances a byte by k more positions):
// the loop takes 8 bytes per iteration with independent lookups, several
// times faster than the one-table byte loop, and checkpoints are verified on
// every load, up to hundreds of MB.
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[n] = c;
}
for (let k = 1; k < 8; k++) for (let n = 0; n < 256; n++) T[k * 256 + n] = (T[(k - 1) * 256 + n] >>> 8) ^ T[T[(k - 1) * 256 + n] & 0xff];

// reading the bytes as 32-bit words is what makes the wide loop fast, and
// gives the bytes in file order only on a little-endian host (all current ones)
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The CRC-32 of `bytes` as an unsigned 32-bit number; pass a previous result as `crc` to continue it over more bytes. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  const n = bytes.length;
  let i = 0;
  if (LITTLE_ENDIAN && n >= 16) {
    // an Int32Array view needs a 4-byte-aligned start
    for (; (bytes.byteOffset + i) & 3; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    const w = new Int32Array(bytes.buffer, bytes.byteOffset + i, ((n - i) >>> 3) * 2);
    for (let j = 0; j < w.length; j += 2) {
      c ^= w[j];
      const d = w[j + 1];
      c =
        T[1792 + (c & 0xff)] ^
        T[1536 + ((c >>> 8) & 0xff)] ^
        T[1280 + ((c >>> 16) & 0xff)] ^
        T[1024 + (c >>> 24)] ^
        T[768 + (d & 0xff)] ^
        T[512 + ((d >>> 8) & 0xff)] ^
        T[256 + ((d >>> 16) & 0xff)] ^
        T[d >>> 24];
    }
    i += w.length * 4;
  }
  for (; i < n; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The CRC-32 as 8 lowercase hex digits, the form checkpoints record. */
export function crc32Hex(bytes: Uint8Array): string {
  return crc32(bytes).toString(16).padStart(8, '0');
}
