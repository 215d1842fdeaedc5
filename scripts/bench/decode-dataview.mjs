// The whole-process baseline of the decode bench (issue 26): what a person writes by hand to
// print the demo ring (demo/workspace/ring.shms) of a snapshot file as JSON, byte for byte what
// `shmscope decode --file FILE --schema ring.shms --json` prints for it: DataView reads at the
// layout's offsets, the same checks (magic, version, seqlock, crc32 over the slots, ring), the
// text streamed to stdout in 64 KiB pieces. Plain JavaScript, no loader: `node decode-dataview.mjs FILE`.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

const b = readFileSync(process.argv[2]);
const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
const MAX = 2n ** 53n;
const u64 = (o) => {
  const v = dv.getBigUint64(o, true);
  return v < MAX ? String(Number(v)) : `"${v}"`;
};
const hex = (v) => `"0x${v.toString(16)}"`;
const hex8 = (v) => `"0x${v.toString(16).padStart(8, '0')}"`;
const crcTable = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  crcTable[i] = c >>> 0;
}
function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const utf8 = new TextDecoder('utf-8', { fatal: true });
function text(o, len) {
  let end = o;
  while (end < o + len && b[end] !== 0) end++;
  const raw = b.subarray(o, end);
  let s;
  try {
    s = utf8.decode(raw);
  } catch {
    s = String.fromCharCode(...raw);
  }
  return JSON.stringify(s);
}

let buf = '';
async function put(s) {
  buf += s;
  if (buf.length >= 1 << 16) {
    if (!process.stdout.write(buf)) await once(process.stdout, 'drain');
    buf = '';
  }
}

const magic = dv.getUint32(0, true);
const version = dv.getUint16(4, true);
const capacity = dv.getUint32(8, true);
const head = dv.getBigUint64(16, true);
const tail = dv.getBigUint64(24, true);
const seq = dv.getUint32(32, true);
const crc = dv.getUint32(36, true);
const state = ['IDLE', 'RUNNING', 'STOPPED'][dv.getUint32(40, true)] ?? dv.getUint32(40, true);
const stats = Number(dv.getBigUint64(48, true));
await put(`{\n  "hdr": {\n    "magic": ${magic},\n    "version": ${version},\n    "flags": ${dv.getUint16(6, true)},\n    "capacity": ${capacity},\n    "slot_size": ${dv.getUint32(12, true)},\n`);
await put(`    "head": ${u64(16)},\n    "tail": ${u64(24)},\n    "seq": ${seq},\n    "crc": ${crc},\n    "state": ${JSON.stringify(state)},\n`);
await put(`    "stats": {\n      "offset": ${stats},\n      "value": {\n        "produced": ${u64(stats)},\n        "dropped": ${u64(stats + 8)}\n      }\n    }\n  },\n  "slots": [`);
for (let i = 0; i < capacity; i++) {
  const o = 64 + i * 64;
  await put(`${i ? ',' : ''}\n    {\n      "t_ns": ${u64(o)},\n      "len": ${dv.getUint32(o + 8, true)},\n      "text": ${text(o + 12, 52)}\n    }`);
}
await put(capacity ? '\n  ],\n' : '],\n');
const sum = crc32(b.subarray(64, 64 + capacity * 64));
const used = head - tail;
await put(`  "checks": [\n    {\n      "path": "hdr.magic",\n      "kind": "expect",\n      "ok": ${magic === 0x474e4952},\n      "expected": "0x474e4952",\n      "actual": ${hex(magic)}\n    },\n`);
await put(`    {\n      "path": "hdr.version",\n      "kind": "expect",\n      "ok": ${version === 3},\n      "expected": 3,\n      "actual": ${version}\n    },\n`);
await put(`    {\n      "path": "hdr.seq",\n      "kind": "seqlock",\n      "ok": ${seq % 2 === 0},\n      "expected": "even and unchanged",\n      "actual": ${seq}\n    },\n`);
await put(`    {\n      "path": "hdr.crc",\n      "kind": "checksum",\n      "ok": ${sum === crc},\n      "expected": ${hex8(sum)},\n      "actual": ${hex8(crc)},\n      "message": "crc32 over ${capacity * 64} bytes at 64"\n    },\n`);
await put(`    {\n      "path": "slots",\n      "kind": "ring",\n      "ok": ${used >= 0n && used <= BigInt(capacity)},\n      "expected": "0 <= head - tail <= ${capacity}",\n      "actual": ${used},\n      "message": "${used} of ${capacity} slots in use (head ${head}, tail ${tail})"\n    }\n  ],\n  "diagnostics": []\n}\n`);
process.stdout.write(buf);
