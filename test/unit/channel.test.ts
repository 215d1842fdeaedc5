// The request/reply channel between host and page: every request settles (result, error, or a
// timeout), malformed requests whose id is known are answered, progress keeps a long request
// alive, cancel reaches the handler, and garbage never reaches a handler.
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import fc from 'fast-check';
import { ChannelError, Endpoint, notificationType, parseEnvelope, requestType, type Envelope } from '../../extension/src/shared/channel';

const isNum = (v: unknown): { n: number } | undefined =>
  typeof v === 'object' && v !== null && Object.keys(v).length === 1 && typeof (v as { n?: unknown }).n === 'number' ? { n: (v as { n: number }).n } : undefined;
const double = requestType<{ n: number }, number>('double', isNum);
const slow = requestType<{ n: number }, number>('slow', isNum, 1000);
const told = notificationType<{ n: number }>('told', isNum);

/** Two endpoints wired to each other (each message delivered on a later turn, as postMessage does). */
function pair() {
  const toB: Envelope[] = [];
  const toA: Envelope[] = [];
  const invalidB: string[] = [];
  const ends: { a?: Endpoint; b?: Endpoint } = {};
  const a = new Endpoint((m) => { toB.push(m); queueMicrotask(() => void ends.b?.receive(structuredClone(m))); });
  const b = new Endpoint((m) => { toA.push(m); queueMicrotask(() => void a.receive(structuredClone(m))); }, (why) => invalidB.push(why));
  ends.b = b;
  return { a, b, toA, toB, invalidB };
}

/** Lets queued deliveries run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('channel', () => {
  it('answers a request with its result, and bytes cross as bytes', async () => {
    const { a, b } = pair();
    b.onRequest(double, ({ n }) => n * 2);
    assert.equal(await a.request(double, { n: 21 }), 42);
    const bytes = requestType<{ n: number }, Uint8Array>('bytes', isNum);
    b.onRequest(bytes, ({ n }) => new Uint8Array([n, n + 1]));
    const got = await a.request(bytes, { n: 7 });
    assert.ok(got instanceof Uint8Array);
    assert.deepEqual([...got], [7, 8]);
    assert.equal(a.waiting, 0);
  });

  it('turns a handler that throws into an error reply with {code, message}', async () => {
    const { a, b } = pair();
    b.onRequest(double, () => { throw Object.assign(new Error('not on a read-only tab'), { code: 'EROFS' }); });
    await assert.rejects(a.request(double, { n: 1 }), (e: unknown) => e instanceof ChannelError && e.code === 'EROFS' && e.message === 'not on a read-only tab');
    b.onRequest(double, () => Promise.reject(new Error('plain')));
    await assert.rejects(a.request(double, { n: 1 }), (e: unknown) => e instanceof ChannelError && e.code === 'EIO');
  });

  it('answers a request that validation rejects, when its id is known', async () => {
    const { a, b, toA, invalidB } = pair();
    let ran = 0;
    b.onRequest(double, ({ n }) => { ran++; return n; });
    await b.receive({ t: 'req', id: 9, method: 'double', params: { n: 'x' } });
    await b.receive({ t: 'req', id: 10, method: 'double', params: { n: 1, extra: true } });
    await b.receive({ t: 'req', id: 11, method: 'nope', params: {} });
    await b.receive({ t: 'req', id: 12, method: 7, params: {} }); // a bad envelope, but its id is known
    assert.equal(ran, 0, 'no handler saw a malformed request');
    assert.deepEqual(toA.map((m) => m.t === 'err' && [m.id, m.code]), [[9, 'EINVAL'], [10, 'EINVAL'], [11, 'ENOSYS'], [12, 'EINVAL']]);
    assert.equal(invalidB.length, 4);
    // Through a real caller: the promise rejects instead of waiting forever.
    const typo = requestType<{ n: string }, number>('double', (v) => v as { n: string });
    await assert.rejects(a.request(typo, { n: 'x' }), (e: unknown) => e instanceof ChannelError && e.code === 'EINVAL');
  });

  it('drops, without a reply, messages that carry no usable id', async () => {
    const { b, toA, invalidB } = pair();
    for (const raw of [null, 'x', 42, [], {}, { t: 'req' }, { t: 'req', id: -1, method: 'double', params: {} }, { t: 'res', id: 1.5, result: 0 }, { t: 'note', method: 'told', params: { n: 'x' } }, { t: 'note', method: 'unknown', params: {} }]) {
      await b.receive(raw);
    }
    await settle();
    assert.equal(toA.length, 0);
    assert.equal(invalidB.length, 10);
  });

  it('delivers notifications that parse, and only those', async () => {
    const { a, b } = pair();
    const seen: number[] = [];
    b.onNotification(told, ({ n }) => seen.push(n));
    a.notify(told, { n: 1 });
    a.notify(told as never, { n: 'two' } as never);
    await settle();
    assert.deepEqual(seen, [1]);
  });

  it('rejects with ETIMEDOUT when no reply comes within the bound, tells the other side to stop, and ignores a late reply', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { a, b, toB } = pair();
      let aborted = false;
      let finish!: (n: number) => void;
      b.onRequest(slow, (_p, ctx) => {
        ctx.signal.addEventListener('abort', () => { aborted = true; });
        return new Promise<number>((r) => { finish = r; });
      });
      const p = a.request(slow, { n: 1 });
      const outcome = p.then(() => 'resolved', (e: unknown) => (e instanceof ChannelError ? e.code : 'other'));
      await settle();
      mock.timers.tick(999);
      await settle();
      assert.equal(a.waiting, 1, 'still waiting just before the bound');
      mock.timers.tick(1);
      assert.equal(await outcome, 'ETIMEDOUT');
      await settle();
      assert.ok(toB.some((m) => m.t === 'cancel'), 'a cancel was sent');
      assert.ok(aborted, "the handler's signal was aborted");
      finish(5);
      await settle();
      assert.equal(a.waiting, 0);
    } finally {
      mock.timers.reset();
    }
  });

  it('keeps a request alive while it reports progress', async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const { a, b } = pair();
      let step!: (done: number) => void;
      let finish!: () => void;
      b.onRequest(slow, (_p, ctx) => new Promise<number>((r) => {
        step = (d) => ctx.progress(d, 10);
        finish = () => r(10);
      }));
      const seen: number[] = [];
      const p = a.request(slow, { n: 1 }, { onProgress: (d) => seen.push(d) });
      await settle();
      for (let i = 1; i <= 3; i++) {
        mock.timers.tick(900);
        step(i);
        await settle();
      }
      finish();
      assert.equal(await p, 10, 'answered after 2.7 s of a 1 s bound, thanks to progress');
      assert.deepEqual(seen, [1, 2, 3]);
    } finally {
      mock.timers.reset();
    }
  });

  it('cancels through an AbortSignal: the handler sees it and its ECANCELED reply settles the call', async () => {
    const { a, b } = pair();
    const find = requestType<{ n: number }, number>('find', isNum, 0);
    b.onRequest(find, (_p, ctx) => new Promise<number>((_r, reject) => {
      ctx.signal.addEventListener('abort', () => reject(Object.assign(new Error('the search was cancelled'), { code: 'ECANCELED' })));
    }));
    const ac = new AbortController();
    const p = a.request(find, { n: 1 }, { signal: ac.signal });
    await settle();
    ac.abort();
    await assert.rejects(p, (e: unknown) => e instanceof ChannelError && e.code === 'ECANCELED');
  });

  it('rejects waiting calls when closed, answers what it was running with ECANCELED, and then answers nothing', async () => {
    const { a, b, toA } = pair();
    b.onRequest(slow, () => new Promise<number>(() => undefined));
    const served = a.request(slow, { n: 2 });
    await settle();
    b.close();
    await assert.rejects(served, (e: unknown) => e instanceof ChannelError && e.code === 'ECANCELED', 'the handler that was running is answered');
    toA.length = 0;
    const p = a.request(slow, { n: 1 });
    a.close();
    await assert.rejects(p, (e: unknown) => e instanceof ChannelError && e.code === 'ECANCELED');
    await assert.rejects(a.request(double, { n: 1 }), (e: unknown) => e instanceof ChannelError && e.code === 'ECANCELED');
    await b.receive({ t: 'req', id: 1, method: 'double', params: { n: 1 } });
    await settle();
    assert.equal(toA.length, 0);
  });

  it('parses envelopes strictly and never throws on arbitrary input', () => {
    assert.equal(parseEnvelope({ t: 'res', id: 1, result: 1, extra: 1 }), undefined);
    assert.equal(parseEnvelope({ t: 'err', id: 1, code: 5, message: 'x' }), undefined);
    assert.deepEqual(parseEnvelope({ t: 'cancel', id: 3 }), { t: 'cancel', id: 3 });
    fc.assert(fc.property(fc.anything({ withTypedArray: true, withBigInt: true, withNullPrototype: true }), (raw) => {
      const m = parseEnvelope(raw);
      return m === undefined || typeof m.t === 'string';
    }), { numRuns: 2000 });
  });
});
