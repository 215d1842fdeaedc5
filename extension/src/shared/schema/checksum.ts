// The checksums `[[checksum(…)]]` knows. Table-driven, incremental over chunks.

function table(poly: number): Uint32Array {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
}
const CRC32 = table(0xedb88320);
const CRC32C = table(0x82f63b78);

export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'adler32' | 'sum8' | 'xor8';

/** A running checksum: feed chunks, then `digest()`. */
export interface Summer {
  update(bytes: Uint8Array): void;
  digest(): number;
}

export function summer(alg: ChecksumAlgorithm): Summer {
  switch (alg) {
    case 'crc32':
    case 'crc32c': {
      const t = alg === 'crc32' ? CRC32 : CRC32C;
      let c = 0xffffffff;
      return {
        update(b) {
          for (let i = 0; i < b.length; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
        },
        digest: () => (c ^ 0xffffffff) >>> 0,
      };
    }
    case 'adler32': {
      let a = 1;
      let s = 0;
      return {
        update(b) {
          for (let i = 0; i < b.length; ) {
            const end = Math.min(b.length, i + 3800);
            for (; i < end; i++) {
              a += b[i]!;
              s += a;
            }
            a %= 65521;
            s %= 65521;
          }
        },
        digest: () => ((s << 16) | a) >>> 0,
      };
    }
    case 'sum8': {
      let v = 0;
      return {
        update(b) {
          for (let i = 0; i < b.length; i++) v = (v + b[i]!) & 0xff;
        },
        digest: () => v,
      };
    }
    case 'xor8': {
      let v = 0;
      return {
        update(b) {
          for (let i = 0; i < b.length; i++) v ^= b[i]!;
        },
        digest: () => v,
      };
    }
  }
}

export function checksum(alg: ChecksumAlgorithm, bytes: Uint8Array): number {
  const s = summer(alg);
  s.update(bytes);
  return s.digest();
}
