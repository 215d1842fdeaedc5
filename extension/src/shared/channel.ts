// The one request/reply channel between the inspector's host and its page. Messages are typed
// constants (`requestType`, `notificationType`) declared once in protocol.ts; each side wraps
// them in envelopes here, so no other module spells a message or builds an acknowledgement.
//   request      {t:'req', id, method, params}   answered by exactly one
//   reply        {t:'res', id, result}           or
//   error        {t:'err', id, code, message}
//   progress     {t:'progress', id, done, total} (a long request says it is alive)
//   cancel       {t:'cancel', id}                (the caller gave up; the handler's signal aborts)
//   notification {t:'note', method, params}      (no reply)
// The receiving side validates params with the type's parser: a request it rejects whose id is
// known gets an EINVAL error reply, so a caller never waits for an answer that cannot come. The
// caller gives up after the type's timeout (ETIMEDOUT) and tells the other side to stop.
// Pure: no vscode, no DOM.

/** Checks untrusted input; undefined when it is not exactly a P. */
export type Parser<P> = (raw: unknown) => P | undefined;

/** A request: parameters P, result R. `timeoutMs` 0 waits as long as it takes (a user's dialog). */
export interface RequestType<P, R> {
  readonly method: string;
  readonly parse: Parser<P>;
  readonly timeoutMs: number;
  /** Never set: carries R for the type checker. */
  readonly result?: R;
}

/** A one-way message with parameters P. */
export interface NotificationType<P> {
  readonly method: string;
  readonly parse: Parser<P>;
}

/** How long a caller waits for a reply unless the type says otherwise. */
export const DEFAULT_TIMEOUT_MS = 10_000;

export function requestType<P, R>(method: string, parse: Parser<P>, timeoutMs = DEFAULT_TIMEOUT_MS): RequestType<P, R> {
  return { method, parse, timeoutMs };
}

export function notificationType<P>(method: string, parse: Parser<P>): NotificationType<P> {
  return { method, parse };
}

/** For messages from a trusted side (the host to its page): no check beyond the envelope. */
export const trusted = <P>(raw: unknown): P | undefined => raw as P;

/** The failure of a request, as it crosses: an errno name (or one of ours) and a sentence. */
export class ChannelError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** What a handler is given besides its params. */
export interface RequestContext {
  readonly id: number;
  /** Aborted when the caller cancels or gives up. */
  readonly signal: AbortSignal;
  /** Tells the caller how far along it is (and keeps its timeout from running out). */
  progress(done: number, total: number): void;
}

export interface CallOptions {
  /** Aborting sends a cancel; the request still settles with whatever the handler answers. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Overrides the type's timeout. */
  timeoutMs?: number;
}

export type Envelope =
  | { t: 'req'; id: number; method: string; params: unknown }
  | { t: 'res'; id: number; result: unknown }
  | { t: 'err'; id: number; code: string; message: string }
  | { t: 'progress'; id: number; done: number; total: number }
  | { t: 'cancel'; id: number }
  | { t: 'note'; method: string; params: unknown };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isMethod = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 64;
const keysIn = (o: Obj, keys: readonly string[]) => Object.keys(o).every((k) => keys.includes(k));

/** The envelope, if `raw` is exactly one; else undefined. Params and results are left to the parsers. */
export function parseEnvelope(raw: unknown): Envelope | undefined {
  if (!isObj(raw)) return undefined;
  const { t, id } = raw;
  switch (t) {
    case 'req':
      return keysIn(raw, ['t', 'id', 'method', 'params']) && isId(id) && isMethod(raw.method) ? { t, id, method: raw.method, params: raw.params } : undefined;
    case 'res':
      return keysIn(raw, ['t', 'id', 'result']) && isId(id) ? { t, id, result: raw.result } : undefined;
    case 'err':
      return keysIn(raw, ['t', 'id', 'code', 'message']) && isId(id) && typeof raw.code === 'string' && typeof raw.message === 'string' ? { t, id, code: raw.code, message: raw.message } : undefined;
    case 'progress':
      return keysIn(raw, ['t', 'id', 'done', 'total']) && isId(id) && typeof raw.done === 'number' && typeof raw.total === 'number' ? { t, id, done: raw.done, total: raw.total } : undefined;
    case 'cancel':
      return keysIn(raw, ['t', 'id']) && isId(id) ? { t, id } : undefined;
    case 'note':
      return keysIn(raw, ['t', 'method', 'params']) && isMethod(raw.method) ? { t, method: raw.method, params: raw.params } : undefined;
    default:
      return undefined;
  }
}

/** The id a message claims, when it has a usable one (to answer a request we cannot serve). */
function claimedId(raw: unknown): number | undefined {
  return isObj(raw) && raw.t === 'req' && isId(raw.id) ? raw.id : undefined;
}

/** `{code, message}` of anything thrown: an errno-style `code` when it has one, else EIO. */
export function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { code: typeof code === 'string' && code.length > 0 ? code : 'EIO', message: e.message };
  }
  return { code: 'EIO', message: String(e) };
}

/** A short, safe rendering of a message for the log (bytes summarised, at most 200 characters). */
export function describeRaw(raw: unknown): string {
  try {
    return JSON.stringify(raw, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 200) ?? String(raw);
  } catch {
    return typeof raw;
  }
}

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: ChannelError): void;
  onProgress?: (done: number, total: number) => void;
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

type Handler = (params: unknown, ctx: RequestContext) => unknown;

/** One side of the channel. `post` sends an envelope to the other side. */
export class Endpoint {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, { parse: Parser<unknown>; run: Handler }>();
  private readonly listeners = new Map<string, { parse: Parser<unknown>; run: (p: unknown) => void }>();
  private readonly running = new Map<number, AbortController>();
  private closed = false;
  /** Counts for tests and the log. */
  readonly stats = { invalid: 0, rejected: 0 };

  constructor(
    private readonly post: (envelope: Envelope) => void,
    /** Told about every message that is dropped or refused, with a sentence for the log. */
    private readonly onInvalid: (why: string) => void = () => undefined,
  ) {}

  /** Sends a request; settles with its result, or rejects with a ChannelError. */
  request<P, R>(type: RequestType<P, R>, params: P, o: CallOptions = {}): Promise<R> {
    if (this.closed) return Promise.reject(new ChannelError('ECANCELED', `${type.method}: the view is closed`));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const p: Pending = { method: type.method, resolve, reject, timeoutMs: o.timeoutMs ?? type.timeoutMs, timer: undefined };
      if (o.onProgress) p.onProgress = o.onProgress;
      this.pending.set(id, p);
      this.arm(id, p);
      if (o.signal) {
        if (o.signal.aborted) this.sendCancel(id);
        else o.signal.addEventListener('abort', () => this.sendCancel(id), { once: true });
      }
      this.post({ t: 'req', id, method: type.method, params });
    });
  }

  /** Sends a notification (no reply). */
  notify<P>(type: NotificationType<P>, params: P): void {
    if (!this.closed) this.post({ t: 'note', method: type.method, params });
  }

  /** Serves a request type; what the handler returns (or throws) is the reply. */
  onRequest<P, R>(type: RequestType<P, R>, run: (params: P, ctx: RequestContext) => R | Promise<R>): void {
    this.handlers.set(type.method, { parse: type.parse, run: run as Handler });
  }

  onNotification<P>(type: NotificationType<P>, run: (params: P) => void): void {
    this.listeners.set(type.method, { parse: type.parse, run: run as (p: unknown) => void });
  }

  /** Handles one raw message from the other side. Resolves when a request it started is answered. */
  async receive(raw: unknown): Promise<void> {
    if (this.closed) return;
    const m = parseEnvelope(raw);
    if (!m) {
      const id = claimedId(raw);
      this.stats.invalid++;
      this.onInvalid(`dropped a malformed message: ${describeRaw(raw)}`);
      if (id !== undefined) this.post({ t: 'err', id, code: 'EINVAL', message: 'the request was malformed and was refused' });
      return;
    }
    switch (m.t) {
      case 'req':
        return this.serve(m.id, m.method, m.params, raw);
      case 'note': {
        const l = this.listeners.get(m.method);
        const params = l?.parse(m.params);
        if (!l || params === undefined) {
          this.stats.invalid++;
          this.onInvalid(`dropped ${l ? 'a malformed' : 'an unknown'} notification: ${describeRaw(raw)}`);
          return;
        }
        l.run(params);
        return;
      }
      case 'cancel':
        this.running.get(m.id)?.abort();
        return;
      case 'progress': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.arm(m.id, p);
        p.onProgress?.(m.done, m.total);
        return;
      }
      case 'res':
      case 'err': {
        const p = this.pending.get(m.id);
        if (!p) return; // late: it timed out, or was never ours
        this.settle(m.id, p);
        if (m.t === 'res') p.resolve(m.result);
        else p.reject(new ChannelError(m.code, m.message));
        return;
      }
    }
  }

  private async serve(id: number, method: string, rawParams: unknown, raw: unknown): Promise<void> {
    const h = this.handlers.get(method);
    if (!h) {
      this.stats.rejected++;
      this.onInvalid(`refused an unknown request: ${describeRaw(raw)}`);
      this.post({ t: 'err', id, code: 'ENOSYS', message: `"${method}" is not a request this side serves` });
      return;
    }
    const params = h.parse(rawParams);
    if (params === undefined) {
      this.stats.rejected++;
      this.onInvalid(`refused a malformed ${method} request: ${describeRaw(raw)}`);
      this.post({ t: 'err', id, code: 'EINVAL', message: `the ${method} request was malformed and was refused` });
      return;
    }
    const ac = new AbortController();
    this.running.set(id, ac);
    try {
      const result = await h.run(params, { id, signal: ac.signal, progress: (done, total) => { if (!this.closed) this.post({ t: 'progress', id, done, total }); } });
      if (!this.closed) this.post({ t: 'res', id, result });
    } catch (e) {
      if (!this.closed) this.post({ t: 'err', id, ...errorOf(e) });
    } finally {
      this.running.delete(id);
    }
  }

  private arm(id: number, p: Pending): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    p.timer = undefined;
    if (p.timeoutMs <= 0) return;
    p.timer = setTimeout(() => {
      if (this.pending.get(id) !== p) return;
      this.settle(id, p);
      this.sendCancel(id);
      p.reject(new ChannelError('ETIMEDOUT', `no answer to ${p.method} within ${p.timeoutMs / 1000} s`));
    }, p.timeoutMs);
  }

  private settle(id: number, p: Pending): void {
    if (p.timer !== undefined) clearTimeout(p.timer);
    this.pending.delete(id);
  }

  private sendCancel(id: number): void {
    if (!this.closed) this.post({ t: 'cancel', id });
  }

  /** Requests still waiting for a reply (for tests). */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * Stops serving: running handlers are aborted and their callers told ECANCELED (the other side
   * may live on, as a page does when its tab reopens the object read-write), waiting callers here
   * are rejected with ECANCELED, and nothing more is sent.
   */
  close(): void {
    if (this.closed) return;
    for (const [id, ac] of this.running) {
      ac.abort();
      this.post({ t: 'err', id, code: 'ECANCELED', message: 'the view was closed or reopened before it answered' });
    }
    this.running.clear();
    this.closed = true;
    for (const [id, p] of [...this.pending]) {
      this.settle(id, p);
      p.reject(new ChannelError('ECANCELED', `${p.method}: the view is closed`));
    }
  }
}
