/**
 * The three hash functions other migration tools feed their advisory-lock keys through, so that
 * poolctl computes the very key each tool takes (see docs/unlock-migrations.md for the sources).
 * All work on UTF-8 bytes, except Java's `String.hashCode`, which works on UTF-16 code units.
 */

let crcTable: Uint32Array | undefined

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320): Go's `crc32.ChecksumIEEE`, Ruby's `Zlib.crc32`. */
export function crc32(input: string | Uint8Array): number {
  crcTable ??= buildCrcTable()
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input
  let crc = 0xff_ff_ff_ff
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xff_ff_ff_ff) >>> 0
}

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xed_b8_83_20 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
}

/** 32-bit FNV-1 (multiply, then xor): Go's `hash/fnv.New32`, not FNV-1a. */
export function fnv1_32(input: string): number {
  let hash = 0x81_1c_9d_c5
  for (const byte of new TextEncoder().encode(input)) {
    hash = Math.imul(hash, 0x01_00_01_93) >>> 0
    hash = (hash ^ byte) >>> 0
  }
  return hash
}

/** Java's `String.hashCode()`: s[0]·31^(n−1) + … + s[n−1], signed 32-bit overflow. */
export function javaStringHashCode(input: string): number {
  let hash = 0
  for (let i = 0; i < input.length; i++) hash = (Math.imul(hash, 31) + input.charCodeAt(i)) | 0
  return hash
}

/** Go's `uint32` product: `a * b` truncated to 32 bits. */
export function uint32Multiply(a: number, b: number): number {
  return Math.imul(a, b) >>> 0
}
