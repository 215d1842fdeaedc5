// The inspector's host logic against real segments: reads clamped and answered, malformed page
// requests answered with an error (garbage without an id dropped), read-only refusal, writes with undo/redo reaching the segment, Find with
// progress and cancel, Copy As, and the removal/size-change status the page turns into a banner.
import assert from 'node:assert/strict';
import { readFileSync, truncateSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import * as ipc from '../../extension/src/ipc';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InspectorSession, type SessionHost } from '../../extension/src/inspector/session';
import { SnapshotFileSource, writeSnapshotFile } from '../../extension/src/inspector/files';
import { diffRanges, SnapshotError } from '../../extension/src/shared/inspector/snapshot';
import type { Envelope } from '../../extension/src/shared/channel';
import { Created } from '../helpers/ipc';
import { ringBytes } from '../helpers/schema-ring';
import { compileSchema } from '../../extension/src/shared/schema';

const made = new Created();
after(() => made.removeAll());

/** What the page sees, written flat as the tests state it: `{type, requestId?, ...fields}`. */
type Flat = { type: string; requestId?: number; [k: string]: any };

/** The reply type each request's result is stated as. */
const REPLY: Record<string, string> = { read: 'readReply', tree: 'treeReply', resolve: 'resolveReply', locate: 'resolveReply', find: 'findReply' };

/** A session over a real object, recording what it posts (as flat messages). */
function open(target: ipc.Target, readWrite = false) {
  const envelopes: Envelope[] = [];
  const posted: Flat[] = [];
  const logs: string[] = [];
  const clipboard: string[] = [];
  const actions: string[] = [];
  const methods = new Map<number, string>();
  const host: SessionHost = {
    post: (m) => {
      envelopes.push(m);
      if (m.t === 'note') posted.push({ type: m.method, ...(m.params as object) });
      else if (m.t === 'res') {
        const method = methods.get(m.id) ?? '';
        posted.push(m.result === undefined ? { type: 'ack', requestId: m.id } : { type: REPLY[method] ?? `${method}Reply`, requestId: m.id, ...(m.result as object) });
      } else if (m.t === 'err') posted.push({ type: 'error', requestId: m.id, code: m.code, message: m.message });
      else if (m.t === 'progress') posted.push({ type: 'findProgress', requestId: m.id, done: m.done, total: m.total });
    },
    writeClipboard: (t) => { clipboard.push(t); return Promise.resolve(); },
    action: (a) => { actions.push(a); return Promise.resolve(); },
    log: (l) => logs.push(l),
  };
  const handle = ipc.openShm(target, { readWrite });
  const session = new InspectorSession(handle, { target: ipc.formatTarget(target), title: ipc.describeTarget(target), bytesPerRow: 16, refreshMs: 100 }, host);
  made.hold({ close: () => session.dispose() });
  const reply = (id: number) => posted.find((m) => m.requestId === id && m.type !== 'findProgress');
  /** Sends a flat page message as the channel's envelope (anything else as it is). */
  const send = (raw: unknown) => {
    if (typeof raw !== 'object' || raw === null || typeof (raw as Flat).type !== 'string') return session.handle(raw);
    const { type, requestId, ...params } = raw as Flat;
    if (type === 'ready' || type === 'state') return session.handle({ t: 'note', method: type, params });
    if (type === 'cancel') return session.handle({ t: 'cancel', id: requestId });
    if (typeof requestId === 'number') methods.set(requestId, type);
    return session.handle({ t: 'req', id: requestId, method: type, params });
  };
  return { session, posted, envelopes, logs, clipboard, actions, reply, send };
}

function pattern(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
}

describe('inspector session', () => {
  it('answers ready with init and serves reads clamped to the object', async () => {
    const t = made.shm(10_000);
    const w = made.hold(ipc.openShm(t, { readWrite: true }));
    w.write(0, pattern(10_000));
    const s = open(t);
    await s.send({ type: 'ready' });
    assert.deepEqual(s.posted[0], { type: 'init', target: `shm:${t.id}`, title: `segment ${t.id}`, size: 10_000, readOnly: true, bytesPerRow: 16, refreshMs: 100 });
    await s.send({ type: 'read', requestId: 1, offset: 9_990, length: 4096 });
    const r = s.reply(1);
    assert.ok(r && r.type === 'readReply');
    assert.equal(r.offset, 9_990);
    assert.deepEqual([...r.bytes], [...pattern(10_000).subarray(9_990)]);
    assert.equal(r.bytes.constructor, Uint8Array, 'a plain Uint8Array (a Buffer would cross the webview bridge as JSON)');
    assert.equal(r.bytes.buffer.byteLength, r.bytes.length, 'owning exactly its bytes');
    await s.send({ type: 'read', requestId: 2, offset: 50_000, length: 16 });
    const r2 = s.reply(2);
    assert.ok(r2 && r2.type === 'readReply' && r2.bytes.length === 0 && r2.size === 10_000);
  });

  it('answers malformed requests whose id is known with an error, and drops and logs the rest', async () => {
    const s = open(made.shm(4096));
    for (const raw of [null, { type: 'read', requestId: 1, offset: -1, length: 1 }, { type: 'read', requestId: 2, offset: 0, length: 1e9 }, { type: 'write', requestId: 3, offset: 0, bytes: [1] }, 'x']) {
      await s.send(raw);
    }
    assert.deepEqual(s.posted.map((m) => [m.type, m.requestId, m.code]), [['error', 1, 'EINVAL'], ['error', 2, 'EINVAL'], ['error', 3, 'EINVAL']], 'a read that cannot be served still ends, so the page never waits for it');
    assert.equal(s.session.stats.dropped, 5);
    assert.equal(s.logs.length, 5);
    assert.match(s.logs[0]!, /dropped a malformed message/);
    assert.match(s.logs[2]!, /refused a malformed read request/);
  });

  it('refuses writes on a read-only tab and leaves the segment unchanged', async () => {
    const t = made.shm(4096);
    const s = open(t);
    await s.send({ type: 'write', requestId: 7, offset: 10, bytes: new Uint8Array([0xff]) });
    const r = s.reply(7);
    assert.ok(r && r.type === 'error');
    assert.equal(r.code, 'EROFS');
    assert.match(r.message, /read-only/);
    assert.equal(made.hold(ipc.openShm(t)).read(10, 1)[0], 0);
  });

  it('writes through on a read-write tab, with undo and redo', async () => {
    const t = made.shm(4096);
    const check = made.hold(ipc.openShm(t));
    const s = open(t, true);
    await s.send({ type: 'write', requestId: 1, offset: 100, bytes: new Uint8Array([0xab, 0xcd]) });
    assert.deepEqual(s.reply(1), { type: 'ack', requestId: 1 });
    assert.deepEqual([...check.read(100, 2)], [0xab, 0xcd]);
    await s.send({ type: 'write', requestId: 2, offset: 100, bytes: new Uint8Array([0x11]) });
    await s.send({ type: 'action', requestId: 3, action: 'undo' });
    assert.deepEqual([...check.read(100, 2)], [0xab, 0xcd]);
    await s.send({ type: 'action', requestId: 4, action: 'undo' });
    assert.deepEqual([...check.read(100, 2)], [0, 0]);
    assert.ok(s.posted.some((m) => m.type === 'invalidate'));
    await s.send({ type: 'action', requestId: 5, action: 'undo' });
    assert.equal(s.reply(5)?.type, 'error', 'nothing left to undo');
    await s.send({ type: 'action', requestId: 6, action: 'redo' });
    assert.deepEqual([...check.read(100, 2)], [0xab, 0xcd]);
    await s.send({ type: 'write', requestId: 8, offset: 4095, bytes: new Uint8Array([1, 2]) });
    assert.equal(s.reply(8)?.type === 'error' && s.reply(8)?.type, 'error', 'a write past the end is refused');
  });

  it('finds hex, text and numbers, reports progress, and can be cancelled', async () => {
    const size = 8 << 20;
    const t = made.shm(size);
    const w = made.hold(ipc.openShm(t, { readWrite: true }));
    w.write(size - 100, new TextEncoder().encode('needle'));
    w.write(3 << 20, new Uint8Array([0x78, 0x56, 0x34, 0x12]));
    const s = open(t);
    await s.send({ type: 'find', requestId: 1, query: { kind: 'text', text: 'needle' }, from: 0, backward: false });
    assert.deepEqual(s.reply(1), { type: 'findReply', requestId: 1, offset: size - 100, length: 6 });
    await s.send({ type: 'find', requestId: 2, query: { kind: 'number', text: '0x12345678', width: 4, endian: 'le' }, from: 0, backward: false });
    assert.deepEqual(s.reply(2), { type: 'findReply', requestId: 2, offset: 3 << 20, length: 4 });
    await s.send({ type: 'find', requestId: 3, query: { kind: 'hex', text: 'zz' }, from: 0, backward: false });
    assert.equal(s.reply(3)?.type, 'error');
    const running = s.send({ type: 'find', requestId: 4, query: { kind: 'hex', text: 'ee ee ee' }, from: 0, backward: false });
    await s.send({ type: 'cancel', requestId: 4 });
    await running;
    const r4 = s.reply(4);
    assert.ok(r4 && r4.type === 'error' && r4.code === 'ECANCELED', JSON.stringify(r4));
  });

  it('copies a range to the clipboard in the chosen format', async () => {
    const t = made.shm(4096);
    made.hold(ipc.openShm(t, { readWrite: true })).write(0, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    const s = open(t);
    await s.send({ type: 'copy', requestId: 1, offset: 0, length: 4, format: 'hex' });
    await s.send({ type: 'copy', requestId: 2, offset: 0, length: 4, format: 'base64' });
    assert.deepEqual(s.clipboard, ['de ad be ef', '3q2+7w==']);
    assert.deepEqual(s.reply(2), { type: 'ack', requestId: 2 });
  });

  it('reports removal with a banner sentence and keeps answering', async () => {
    const t = made.shm(4096);
    const s = open(t);
    await s.send({ type: 'ready' });
    ipc.remove(t);
    await s.send({ type: 'read', requestId: 1, offset: 0, length: 16 });
    const st = s.posted.find((m) => m.type === 'status');
    assert.ok(st && st.type === 'status' && st.removed, JSON.stringify(s.posted));
    assert.match(st.problem ?? '', /was removed/);
    assert.ok(s.reply(1), 'the read is still answered');
  });

  it('reports a POSIX object that shrank, and reads stay inside the new size', async () => {
    const t = made.posixShm(8192);
    const s = open(t);
    await s.send({ type: 'ready' });
    truncateSync(`/dev/shm${t.name}`, 1000);
    await s.send({ type: 'read', requestId: 1, offset: 0, length: 8192 });
    const st = s.posted.find((m) => m.type === 'status');
    assert.ok(st && st.type === 'status' && st.size === 1000 && !st.removed);
    const r = s.reply(1);
    assert.ok(r && r.type === 'readReply' && r.bytes.length === 1000 && r.size === 1000);
  });
});

describe('snapshot files of live objects', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-snap-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a segment to a .shmsnap, reads it back, and diffs it against the changed segment', async () => {
    const size = 3 * (1 << 20) + 5;
    const t = made.shm(size);
    const w = made.hold(ipc.openShm(t, { readWrite: true }));
    w.write(0, pattern(size));
    const file = path.join(dir, 'a.shmsnap');
    const seen: number[] = [];
    const h = await writeSnapshotFile(file, w, { target: ipc.formatTarget(t), title: 'seg' }, (d) => seen.push(d));
    assert.equal(h.size, size);
    assert.equal(seen.at(-1), size);
    const snap = made.hold(new SnapshotFileSource(file));
    assert.equal(snap.header.target, `shm:${t.id}`);
    assert.equal(snap.size, size);
    assert.deepEqual([...snap.read(size - 3, 10)], [...pattern(size).subarray(size - 3)]);
    assert.deepEqual((await diffRanges(w, snap)).ranges, []);
    w.write(2_000_000, new Uint8Array([0, 0, 0, 0].map((_, i) => ~pattern(size)[2_000_000 + i]! & 0xff)));
    w.write(size - 1, new Uint8Array([~pattern(size)[size - 1]! & 0xff]));
    assert.deepEqual((await diffRanges(w, snap)).ranges, [{ offset: 2_000_000, length: 4 }, { offset: size - 1, length: 1 }]);
  });

  it('refuses a file that is not a snapshot', () => {
    const file = path.join(dir, 'not.shmsnap');
    writeFileSync(file, 'hello');
    assert.throws(() => new SnapshotFileSource(file), SnapshotError);
  });
});

describe('structure view of a live segment through a bound schema', () => {
  const schemaText = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema', 'ring.shms'), 'utf8');
  const binding = { schema: compileSchema(schemaText, 'ring.shms'), label: 'ring.shms · Ring', how: 'test' };
  const ringSegment = () => {
    const bytes = ringBytes(8, { head: 10n, tail: 5n });
    const t = made.shm(bytes.length);
    made.hold(ipc.openShm(t, { readWrite: true })).write(0, bytes);
    return t;
  };
  const ask = async (s: ReturnType<typeof open>, m: Record<string, unknown>) => {
    await s.send(m);
    return s.reply(m.requestId as number)!;
  };

  it('sends fields and rings with the bytes, rows of the tree, and resolves names', async () => {
    const s = open(ringSegment());
    s.session.bind(binding);
    await s.send({ type: 'ready' });
    assert.deepEqual(s.posted.find((m) => m.type === 'schema'), { type: 'schema', label: 'ring.shms · Ring', how: 'test' });
    const read = await ask(s, { type: 'read', requestId: 1, offset: 0, length: 64 + 8 * 64 });
    assert.equal(read.type, 'readReply');
    if (read.type !== 'readReply') return;
    assert.equal(read.spans?.[0]?.path, 'hdr.magic');
    assert.equal(read.rings?.[0]?.text, 'slots: head 10 (slot 2), tail 5 (slot 5), 5 of 8 in use');
    const tree = await ask(s, { type: 'tree', requestId: 2, first: 0, count: 50, toggle: { id: '0', expand: true } });
    assert.equal(tree.type, 'treeReply');
    if (tree.type !== 'treeReply') return;
    assert.equal(tree.total, 13);
    assert.equal(tree.rows[6]!.path, 'hdr.head');
    assert.equal(tree.rows[6]!.value, '10');
    assert.deepEqual([tree.summary.ok, tree.summary.failed], [5, 0]);
    const r = await ask(s, { type: 'resolve', requestId: 3, text: 'slots[2].text' });
    assert.deepEqual(r, { type: 'resolveReply', requestId: 3, offset: 64 + 2 * 64 + 12, length: 52, path: 'slots[2].text', id: '1/2/2', row: 13 + 3 + 2 });
    const miss = await ask(s, { type: 'resolve', requestId: 4, text: 'nope' });
    assert.equal(miss.type === 'error' && miss.code, 'ENOENT');
    assert.match(miss.type === 'error' ? miss.message : '', /no field "nope" in ring\.shms · Ring \(it has hdr, slots\)/);
    const at = await ask(s, { type: 'locate', requestId: 5, offset: 17 });
    assert.equal(at.type === 'resolveReply' && at.path, 'hdr.head');
    // A malformed tree request is refused with an error reply (the page's tree then stops waiting).
    await s.send({ type: 'tree', requestId: 6, first: 0, count: 5, toggle: { id: '../0', expand: true } });
    assert.equal(s.reply(6)?.code, 'EINVAL');
  });

  it('refuses field edits in a read-only tab', async () => {
    const s = open(ringSegment());
    s.session.bind(binding);
    const e = await ask(s, { type: 'setField', requestId: 1, id: '0/2', path: 'hdr.flags', text: '7' });
    assert.equal(e.type === 'error' && e.code, 'EROFS');
  });

  it('writes a typed value into the segment in the field\'s width, and undo restores it', async () => {
    const t = ringSegment();
    const s = open(t, true);
    s.session.bind(binding);
    const check = made.hold(ipc.openShm(t));
    assert.equal((await ask(s, { type: 'setField', requestId: 1, id: '0/2', path: 'hdr.flags', text: '0x1234' })).type, 'ack');
    assert.deepEqual([...check.read(4, 6)], [3, 0, 0x34, 0x12, 8, 0]);
    assert.equal((await ask(s, { type: 'setField', requestId: 2, id: '1/3/2', path: 'slots[3].text', text: 'hi' })).type, 'ack');
    assert.deepEqual([...check.read(64 + 3 * 64 + 12, 4)], [0x68, 0x69, 0, 0]);
    const tooBig = await ask(s, { type: 'setField', requestId: 3, id: '0/2', path: 'hdr.flags', text: '70000' });
    assert.equal(tooBig.type === 'error' && tooBig.code, 'ERANGE');
    assert.match(tooBig.type === 'error' ? tooBig.message : '', /70000 does not fit in uint16_t/);
    const stale = await ask(s, { type: 'setField', requestId: 4, id: '0/3', path: 'hdr.flags', text: '1' });
    assert.equal(stale.type === 'error' && stale.code, 'ESTALE');
    const container = await ask(s, { type: 'setField', requestId: 5, id: '0', path: 'hdr', text: '1' });
    assert.equal(container.type === 'error' && container.code, 'EINVAL');
    assert.ok(s.session.undo());
    assert.ok(s.session.undo());
    assert.deepEqual([...check.read(6, 2)], [0, 0]);
    assert.deepEqual([...check.read(64 + 3 * 64 + 12, 5)], [...new TextEncoder().encode('msg 3')]);
  });
});
