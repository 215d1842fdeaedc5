// Which segment of a schema decodes an object: the one resolver that `decode`, `waits`, the Waits
// view and the inspector share, so that a `.shms` file binds the same objects everywhere. A
// `segment … for id N` binds a System V segment by its id first (keyed or not), then by how the
// object names itself (`key`, `posix`, `memfd`, `file`, `anon of "program"`), then an unnamed
// memfd, anonymous region or file by its first bytes (`for magic`, or a struct's magic). No vscode
// import.
import { openObject, schemaIdentity, type ShmHandle } from '../ipc/objects';
import { parseTarget, type Target } from '../ipc/target';
import { decode, MAGIC_BYTES, segmentFor, type DecodedNode, type Schema, type StructType, type ThreadLookup } from '../shared/schema';
import type { BindingKind } from '../shared/schema/types';

/** How `segment … for` names an object. */
export interface Identity {
  kind: BindingKind;
  value: number | string;
}

/** What the resolver knows of an object: its System V id, how it names itself, its first bytes. */
export interface BindingSubject {
  /** A System V segment's id (`for id N` binds it even when it has a key). */
  shmId?: number;
  identity?: Identity;
  /** The first MAGIC_BYTES bytes, for `for magic` (unnamed memfd and anonymous regions). */
  head?: Uint8Array;
}

/** The first schema (in order) with a segment declared for the subject, and that segment. */
export function resolveBinding(schemas: readonly Schema[], subject: BindingSubject): { schema: Schema; segment: StructType } | undefined {
  for (const schema of schemas) {
    const byId = subject.shmId !== undefined ? segmentFor(schema, { kind: 'id', value: subject.shmId }) : undefined;
    const segment = byId ?? (subject.identity ? segmentFor(schema, subject.identity, subject.head) : undefined);
    if (segment) return { schema, segment };
  }
  return undefined;
}

/**
 * The subject of an open object: its id, its identity (a segment's key needs a stat; a region's
 * comes from its handle) and its first bytes. A removed or unreadable object has what could be read.
 */
export function subjectOf(target: Target | string, handle?: ShmHandle): BindingSubject {
  const t = typeof target === 'string' ? parseTarget(target, 'shm') : target;
  const subject: BindingSubject = t.kind === 'shm' ? { shmId: t.id } : {};
  try {
    const identity = schemaIdentity(t, handle);
    if (identity) subject.identity = identity;
  } catch {
    // removed meanwhile: bound by id, if at all
  }
  if (handle && subject.identity && (t.kind === 'memfd' || t.kind === 'anon' || t.kind === 'file')) {
    try {
      subject.head = handle.read(0, Math.min(handle.size, MAGIC_BYTES));
    } catch {
      // unreadable head: bound by name only
    }
  }
  return subject;
}

/**
 * Decoded trees of the objects the schemas bind, one per object (and per way of counting TIDs)
 * for one scan: `waits` and the Waits view name the field at a waited offset with it. Objects are
 * opened read-only as every command opens them (a memfd, anonymous region or file through /proc).
 */
export class BoundDecoders {
  private readonly roots = new Map<string, Promise<DecodedNode | null>>();
  private readonly handles: ShmHandle[] = [];

  constructor(private readonly schemas: readonly Schema[]) {}

  get empty(): boolean {
    return this.schemas.length === 0;
  }

  /** The decoded root of `target` with owners looked up by `threads`; null when nothing binds it or it cannot be read. */
  root(target: string, threads: ThreadLookup, scopeKey = ''): Promise<DecodedNode | null> {
    if (this.empty) return Promise.resolve(null);
    const key = `${scopeKey}|${target}`;
    let root = this.roots.get(key);
    if (!root) {
      root = this.open(target, threads);
      this.roots.set(key, root);
    }
    return root;
  }

  private async open(target: string, threads: ThreadLookup): Promise<DecodedNode | null> {
    let handle: ShmHandle;
    try {
      handle = await openObject(target);
    } catch {
      return null; // removed meanwhile, or not readable: the wait is still reported by offset
    }
    this.handles.push(handle);
    const bound = resolveBinding(this.schemas, subjectOf(target, handle));
    if (!bound) return null;
    try {
      return decode(bound.schema, bound.segment, handle, { threads }).root ?? null;
    } catch {
      return null;
    }
  }

  close(): void {
    for (const h of this.handles.splice(0)) {
      try {
        h.close();
      } catch {
        // already gone
      }
    }
  }
}
