// The host's validators of what the page sends (each request type's parser in protocol.ts, and
// the channel's envelope): every valid message passes unchanged, anything else (wrong types,
// ranges, extra fields, unsafe integers, oversized reads) is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseEnvelope } from '../../extension/src/shared/channel';
import { MAX_QUERY, MAX_READ, MAX_TEXT, MAX_TREE_ROWS, MAX_WRITE, PageNotes, PageRequests } from '../../extension/src/shared/protocol';

/** A page message written flat, as `{type, requestId?, ...params}`. */
type FromWebview = { type: string; requestId?: number } & Record<string, unknown>;

/**
 * The flat message, if the host's parsers accept it: requests through their type's parser,
 * `ready` and `state` through the notification parsers, `cancel` through the envelope's.
 */
function parseFromWebview(raw: unknown): FromWebview | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const { type, requestId, ...params } = raw as Record<string, unknown>;
  if (typeof type !== 'string') return undefined;
  if (type === 'cancel') {
    const e = parseEnvelope({ t: 'cancel', id: requestId, ...params });
    return e && e.t === 'cancel' ? { type, requestId: e.id } : undefined;
  }
  if (type === 'ready' || type === 'state') {
    if (requestId !== undefined) return undefined;
    const p = PageNotes[type].parse(params);
    return p === undefined ? undefined : { type, ...p };
  }
  const rt = (PageRequests as Record<string, { parse(v: unknown): object | undefined }>)[type];
  if (!rt || !Object.hasOwn(PageRequests, type)) return undefined;
  const e = parseEnvelope({ t: 'req', id: requestId, method: type, params });
  const p = e && rt.parse(params);
  return p === undefined ? undefined : { type, requestId: requestId as number, ...p };
}

const valid: FromWebview[] = [
  { type: 'ready' },
  { type: 'read', requestId: 1, offset: 0, length: 4096 },
  { type: 'read', requestId: 2, offset: 2 ** 40, length: MAX_READ },
  { type: 'write', requestId: 3, offset: 10, bytes: new Uint8Array([1, 2, 3]) },
  { type: 'find', requestId: 4, query: { kind: 'hex', text: 'de ad' }, from: 0, backward: false },
  { type: 'find', requestId: 5, query: { kind: 'number', text: '-1', width: 8, endian: 'be' }, from: 7, backward: true },
  { type: 'cancel', requestId: 4 },
  { type: 'copy', requestId: 6, offset: 0, length: 16, format: 'c' },
  { type: 'action', requestId: 7, action: 'snapshot' },
  { type: 'state', cursor: 5, selection: { offset: 5, length: 1 }, paused: false, firstRow: 0, visible: { offset: 0, length: 512 } },
  { type: 'action', requestId: 8, action: 'bindSchema' },
  { type: 'action', requestId: 9, action: 'addBookmark' },
  { type: 'tree', requestId: 10, first: 0, count: 40 },
  { type: 'tree', requestId: 11, first: 2 ** 30, count: MAX_TREE_ROWS, toggle: { id: '1/1048575/2', expand: true } },
  { type: 'resolve', requestId: 12, text: 'slots[3].text' },
  { type: 'locate', requestId: 13, offset: 2 ** 40 },
  { type: 'setField', requestId: 14, id: '0/2', path: 'hdr.flags', text: '0x1234' },
  { type: 'setField', requestId: 15, id: '0/2', path: 'hdr.flags', text: '' },
  { type: 'removeBookmark', requestId: 16, index: 0, name: 'ring' },
  { type: 'copyText', requestId: 17, text: 'hdr.head = 10' },
];

describe('the host\'s parsers of page messages', () => {
  it('refuses structure requests out of bounds: row ids that are not index paths, oversized pages and texts', () => {
    const tree = (toggle: unknown, count = 10) => parseFromWebview({ type: 'tree', requestId: 1, first: 0, count, toggle });
    for (const id of ['', '/0', '0/', '../0', '0//1', '-1', '0/x', '1e3', ' 0', `0${'/1'.repeat(64)}`, 7, null]) assert.equal(tree({ id, expand: true }), undefined, String(id));
    assert.equal(tree({ id: '0', expand: 'yes' }), undefined);
    assert.equal(tree({ id: '0', expand: true, extra: 1 }), undefined);
    assert.equal(tree(undefined, MAX_TREE_ROWS + 1), undefined);
    assert.equal(parseFromWebview({ type: 'resolve', requestId: 1, text: '' }), undefined);
    assert.equal(parseFromWebview({ type: 'resolve', requestId: 1, text: 'a'.repeat(MAX_TEXT + 1) }), undefined);
    assert.equal(parseFromWebview({ type: 'setField', requestId: 1, id: '0', path: 'a', text: 'x'.repeat(MAX_TEXT + 1) }), undefined);
    assert.equal(parseFromWebview({ type: 'setField', requestId: 1, id: '0', path: 'a', text: 5 }), undefined);
    assert.equal(parseFromWebview({ type: 'removeBookmark', requestId: 1, index: -1, name: 'a' }), undefined);
    assert.equal(parseFromWebview({ type: 'action', requestId: 1, action: 'rm -rf' }), undefined);
    assert.equal(parseFromWebview({ type: 'copyText', requestId: 1, text: '' }), undefined);
    assert.equal(parseFromWebview({ type: 'copyText', requestId: 1, text: 'x'.repeat(MAX_TEXT + 1) }), undefined);
  });

  it('accepts every well-formed message as it is', () => {
    for (const m of valid) assert.deepEqual(parseFromWebview(m), m);
  });

  it('refuses non-objects, unknown types and missing fields', () => {
    for (const raw of [undefined, null, 0, 'read', [], [{ type: 'ready' }], {}, { type: 'nope' }, { type: 'read', requestId: 1, offset: 0 },
      { type: 'write', requestId: 1, offset: 0 }, { type: 'cancel' }, { type: 'copy', requestId: 1, offset: 0, length: 1 }]) {
      assert.equal(parseFromWebview(raw), undefined, JSON.stringify(raw));
    }
  });

  it('refuses extra fields, so nothing unchecked reaches a handler', () => {
    assert.equal(parseFromWebview({ type: 'ready', x: 1 }), undefined);
    assert.equal(parseFromWebview({ type: 'read', requestId: 1, offset: 0, length: 1, evil: true }), undefined);
    assert.equal(parseFromWebview({ type: 'find', requestId: 1, query: { kind: 'text', text: 'a', regex: true }, from: 0, backward: false }), undefined);
  });

  it('refuses offsets that are negative, fractional, unsafe or not numbers', () => {
    for (const offset of [-1, 1.5, 2 ** 53, Number.NaN, Infinity, '0', 10n, null]) {
      assert.equal(parseFromWebview({ type: 'read', requestId: 1, offset, length: 1 }), undefined, String(offset));
    }
    assert.equal(parseFromWebview({ type: 'read', requestId: 1, offset: 2 ** 53 - 1, length: 2 }), undefined, 'end past 2^53');
  });

  it('refuses reads above MAX_READ and empty or oversized writes', () => {
    assert.equal(parseFromWebview({ type: 'read', requestId: 1, offset: 0, length: MAX_READ + 1 }), undefined);
    assert.equal(parseFromWebview({ type: 'write', requestId: 1, offset: 0, bytes: new Uint8Array(0) }), undefined);
    assert.equal(parseFromWebview({ type: 'write', requestId: 1, offset: 0, bytes: new Uint8Array(MAX_WRITE + 1) }), undefined);
    assert.equal(parseFromWebview({ type: 'write', requestId: 1, offset: 0, bytes: [1, 2] }), undefined, 'a JSON array is not bytes');
  });

  it('refuses bad find queries: empty, too long, unknown kind, number without width, odd width', () => {
    const q = (query: unknown) => parseFromWebview({ type: 'find', requestId: 1, query, from: 0, backward: false });
    assert.equal(q({ kind: 'text', text: '' }), undefined);
    assert.equal(q({ kind: 'text', text: 'a'.repeat(MAX_QUERY + 1) }), undefined);
    assert.equal(q({ kind: 'regex', text: 'a' }), undefined);
    assert.equal(q({ kind: 'number', text: '1' }), undefined);
    assert.equal(q({ kind: 'number', text: '1', width: 3 }), undefined);
    assert.equal(q({ kind: 'number', text: '1', width: 4, endian: 'middle' }), undefined);
    assert.ok(q({ kind: 'text', text: 'a'.repeat(MAX_QUERY) }));
  });

  it('refuses unknown copy formats and actions', () => {
    assert.equal(parseFromWebview({ type: 'copy', requestId: 1, offset: 0, length: 1, format: 'html' }), undefined);
    assert.equal(parseFromWebview({ type: 'action', requestId: 1, action: 'rm -rf' }), undefined);
  });

  it('never throws and never lets an invalid read through, for arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything({ withTypedArray: true, withBigInt: true, withNullPrototype: true }), (raw) => {
        const m = parseFromWebview(raw);
        if (m === undefined) return true;
        return typeof m.type === 'string';
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.record({ type: fc.constant('read'), requestId: fc.anything(), offset: fc.anything(), length: fc.anything() }), (raw) => {
        const m = parseFromWebview(raw);
        if (m === undefined || m.type !== 'read') return m === undefined;
        const { offset, length } = m as unknown as { offset: number; length: number };
        return Number.isSafeInteger(offset) && offset >= 0 && length >= 0 && length <= MAX_READ && Number.isSafeInteger(m.requestId);
      }),
      { numRuns: 2000 },
    );
  });
});
