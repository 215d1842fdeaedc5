// The page's pure parts, without a browser: the byte decorations as layers (each paints only its
// own classes, in registration order, and can be removed), the state helpers, and the one
// targetOf that every command uses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChangeTracker } from '../../extension/src/shared/inspector/changes';
import { bookmarkLayer, changesLayer, Decorations, diffLayer, fieldLayer, ringLayer, selectionLayer } from '../../extension/src/shared/inspector/decorations';
import type { FieldSpan, RingMark } from '../../extension/src/shared/protocol';
import { hexKey, targetOf } from '../../extension/src/ipc/target';
import { byteAt, initialState, spanAt } from '../../webview-ui/src/state';

const span = (offset: number, length: number, o: Partial<FieldSpan> = {}): FieldSpan => ({ path: `f${offset}`, type: 'uint8_t', offset, length, tint: 1, ...o });

describe('byte decorations', () => {
  it('selection and cursor', () => {
    const d = new Decorations();
    d.register(selectionLayer(() => ({ selection: { offset: 2, length: 3 }, cursor: 4 })));
    assert.deepEqual(d.paint(0, 6), ['', '', 'sel', 'sel', 'sel cur', '']);
  });

  it('diff ranges, from any first offset', () => {
    const d = new Decorations();
    d.register(diffLayer(() => [{ offset: 1, length: 2 }, { offset: 10, length: 1 }]));
    assert.deepEqual(d.paint(0, 4), ['', 'diff', 'diff', '']);
    assert.deepEqual(d.paint(9, 3), ['', 'diff', ''], 'begin skips ranges before the first offset');
  });

  it('field tints: alternate elements, failed checks and field starts', () => {
    const d = new Decorations();
    d.register(fieldLayer(() => [span(0, 2, { tint: 3 }), span(2, 4, { tint: 5, stride: 2, bad: true })]));
    assert.deepEqual(d.paint(0, 7), ['t3 fs', 't3', 't5 bad fs', 't5 bad', 't5 alt bad fs', 't5 alt bad', '']);
  });

  it('ring head, tail and valid slots; bookmarks in their colour', () => {
    const ring: RingMark = { path: 'slots', headSlot: { offset: 0, length: 2 }, tailSlot: { offset: 2, length: 2 }, valid: [{ offset: 2, length: 2 }], text: '' } as RingMark;
    const d = new Decorations();
    d.register(ringLayer(() => [ring]));
    d.register(bookmarkLayer(() => [{ offset: 3, length: 2, color: 'red' }]));
    assert.deepEqual(d.paint(0, 5), ['rh', 'rh', 'rt rv', 'rt rv bm bm-red', 'bm bm-red']);
  });

  it('changed bytes fade in steps, and a layer can be removed', () => {
    const t = new ChangeTracker(1000);
    t.mark([1], 0);
    const d = new Decorations();
    const remove = d.register(changesLayer(t));
    assert.deepEqual(d.paint(0, 2, 0), ['', 'chg chg-3']);
    assert.deepEqual(d.paint(0, 2, 900), ['', 'chg chg-1']);
    assert.deepEqual(d.names, ['changes']);
    remove();
    assert.deepEqual(d.paint(0, 2, 0), ['', '']);
  });

  it('joins every layer in registration order, so a new panel adds a layer without touching the others', () => {
    const d = new Decorations();
    d.register(selectionLayer(() => ({ selection: { offset: 0, length: 1 }, cursor: 0 })));
    d.register({ name: 'timeline', classes: (o) => (o === 0 ? 'rec' : '') });
    assert.deepEqual(d.paint(0, 2), ['sel cur rec', '']);
  });
});

describe('page state helpers', () => {
  it('reads bytes only from the last window, and finds the deepest field over a byte', () => {
    const s = initialState();
    s.win = { offset: 100, bytes: new Uint8Array([7, 8]) };
    assert.equal(byteAt(s, 100), 7);
    assert.equal(byteAt(s, 102), undefined);
    assert.equal(byteAt(s, 99), undefined);
    s.spans = [span(0, 8, { path: 'hdr' }), span(4, 2, { path: 'hdr.x' }), span(8, 4, { path: 'y' })];
    assert.equal(spanAt(s, 5)?.path, 'hdr.x');
    assert.equal(spanAt(s, 7)?.path, 'hdr');
    assert.equal(spanAt(s, 12), undefined);
  });
});

describe('targetOf and hexKey', () => {
  it('names the object of a target text, a Target, a record or a tree node, and nothing else', () => {
    assert.deepEqual(targetOf('sem:5'), { kind: 'sem', id: 5 });
    assert.deepEqual(targetOf({ kind: 'posix-shm', name: '/ring' }), { kind: 'posix-shm', name: '/ring' });
    assert.deepEqual(targetOf({ type: 'object', record: { kind: 'msg', id: 3, key: 7, user: 'root' } }), { kind: 'msg', id: 3 });
    assert.deepEqual(targetOf({ item: { target: { kind: 'shm', id: 9 } } }), { kind: 'shm', id: 9 });
    for (const x of [undefined, null, 5, {}, { kind: 'shm' }, { kind: 'nope', id: 1 }, { kind: 'posix-shm', id: 1 }, { type: 'group' }]) assert.equal(targetOf(x), undefined, JSON.stringify(x));
    assert.throws(() => targetOf('shm:x'), /not an id/);
  });

  it('formats keys as eight hex digits', () => {
    assert.equal(hexKey(0x52494e47), '0x52494e47');
    assert.equal(hexKey(1), '0x00000001');
    assert.equal(hexKey(-1), '0xffffffff');
  });
});

describe('the status line', () => {
  it('a message about a condition goes when the condition ends; a later message stays', async () => {
    // The status line builds its elements through document.createElement: a small stand-in.
    class FakeElement {
      textContent = '';
      className = '';
      hidden = false;
      readonly attrs = new Map<string, string>();
      readonly classes = new Set<string>();
      readonly classList = { toggle: (c: string, on: boolean) => (on ? this.classes.add(c) : this.classes.delete(c)) };
      setAttribute(k: string, v: string) { this.attrs.set(k, v); }
      append() { /* children are not looked at */ }
      addEventListener() { /* no events here */ }
    }
    const g = globalThis as { document?: unknown };
    const had = g.document;
    g.document = { createElement: () => new FakeElement() };
    try {
      // By a computed name: the page's modules type-check against the DOM library, this file does not.
      const page = '../../webview-ui/src/status';
      const { StatusLine } = (await import(page)) as {
        StatusLine: new (s: ReturnType<typeof initialState>) => { message(t: string, error?: boolean, condition?: string): void; clear(condition: string): void; setMemory(t: string): void };
      };
      const status = new StatusLine(initialState());
      const msg = (status as unknown as { msg: FakeElement }).msg;
      status.message('no answer to read within 5 s: the rows shown are the last read; it tries again', true, 'read');
      assert.deepEqual([msg.textContent !== '', msg.classes.has('error')], [true, true]);
      status.clear('read');
      assert.deepEqual([msg.textContent, msg.classes.has('error')], ['', false]);
      status.message('wrote 0x41 at 0x10');
      status.clear('read');
      assert.equal(msg.textContent, 'wrote 0x41 at 0x10', 'reads answering again do not take away another message');
      // The object's memory, as the host read it (on open and on a slow timer), has a place of its own.
      const memory = (status as unknown as { memory: FakeElement }).memory;
      assert.equal(memory.textContent, '', 'nothing until the host has read it');
      status.setMemory('Memory: resident 4 KiB · swapped 0 B · PSS 2 KiB');
      assert.equal(memory.textContent, 'Memory: resident 4 KiB · swapped 0 B · PSS 2 KiB');
      assert.equal(msg.textContent, 'wrote 0x41 at 0x10', 'a message is not replaced by it');
    } finally {
      g.document = had;
    }
  });
});
