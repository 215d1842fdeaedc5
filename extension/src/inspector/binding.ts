// Which schema decodes an inspected object, found the way a user expects: a schema bound by hand
// ("Bind Schema…", remembered per object in the workspace), else the `shmscope.schemas` setting,
// else a `segment … for` declaration in one of the workspace's .shms files, resolved as `decode`
// and `waits` resolve it (analysis/binding.ts). The text comes from the open editor when the file
// is open (unsaved edits re-bind as you type), else disk.
import * as vscode from 'vscode';
import { readRegular } from '../ipc/regular';
import { hexKey } from '../ipc/target';
import { readConfig, SECTION } from '../platform/config';
import { resolveBinding, type Identity } from '../analysis/binding';
import { compileSchema, defaultSegment, findType, type Schema } from '../shared/schema';
import { schemaIncludePath } from '../lsp/client';
import type { SchemaBinding } from './session';

export type { Identity };

/** Where a binding points: a schema file and the type in it (the first segment when undefined). */
export interface BindingRef {
  file: vscode.Uri;
  type?: string;
  how: string;
}

const STATE_KEY = 'shmscope.schemaBindings';
const MAX_SCHEMA_FILES = 500;
const MAX_SCHEMA_BYTES = 4 << 20;

/** The text users and settings use for an identity: `key:0x52494e47`, `id:32770`, `posix:/ring`. */
export function identityText(id: Identity): string {
  if (id.kind === 'key') return `key:${hexKey(Number(id.value))}`;
  return `${id.kind}:${id.value}`;
}

/** The schema text of a file: the open document's (with unsaved edits), else the file's. */
export async function schemaText(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  if (uri.scheme === 'file') {
    // Not workspace.fs: it trusts stat, and a ring.shms that links to /proc/self/pagemap (0 bytes in
    // stat, endless in read) or a FIFO would take the host down. Bytes are counted as read. A turn
    // of the event loop first: callers compile file after file, and the host answers in between.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      return readRegular(uri.fsPath, MAX_SCHEMA_BYTES).toString('utf8');
    } catch (e) {
      throw new Error(`cannot read the schema ${vscode.workspace.asRelativePath(uri)}: ${(e as Error).message}`, { cause: e });
    }
  }
  const st = await vscode.workspace.fs.stat(uri);
  if (st.size > MAX_SCHEMA_BYTES) throw new Error(`${vscode.workspace.asRelativePath(uri)} is ${st.size} bytes: larger than a schema can be (${MAX_SCHEMA_BYTES})`);
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
}

function resolvePath(path: string): vscode.Uri {
  if (path.startsWith('/')) return vscode.Uri.file(path);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, path) : vscode.Uri.file(path);
}

/** `path#Type` → file and type. */
function parseRef(text: string, how: string): BindingRef {
  const hash = text.lastIndexOf('#');
  const path = hash > 0 ? text.slice(0, hash) : text;
  const type = hash > 0 ? text.slice(hash + 1).trim() || undefined : undefined;
  return { file: resolvePath(path.replace(/^\$\{workspaceFolder\}\/?/, '')), ...(type ? { type } : {}), how };
}

/** The remembered manual bindings: identity text → file URI and type. */
function manualBindings(state: vscode.Memento): Record<string, { file: string; type?: string }> {
  const v = state.get<unknown>(STATE_KEY);
  return typeof v === 'object' && v !== null ? (v as Record<string, { file: string; type?: string }>) : {};
}

/** Remembers (or forgets, with undefined) a binding made by hand for an object. */
export async function rememberBinding(state: vscode.Memento, id: Identity, ref: { file: vscode.Uri; type?: string } | undefined): Promise<void> {
  const all = { ...manualBindings(state) };
  const key = identityText(id);
  if (ref) all[key] = { file: ref.file.toString(), ...(ref.type ? { type: ref.type } : {}) };
  else delete all[key];
  await state.update(STATE_KEY, all);
}

/** The `.shms` files of the workspace (node_modules and dot folders skipped). */
export async function schemaFiles(): Promise<vscode.Uri[]> {
  if (!vscode.workspace.workspaceFolders?.length) return [];
  return vscode.workspace.findFiles('**/*.shms', '{**/node_modules/**,**/.*/**}', MAX_SCHEMA_FILES);
}

/**
 * The binding for an object: by hand, by setting (keyed by its target text or its identity), or by a
 * `segment … for` declaration in a workspace schema (for an unnamed memfd or anonymous region, by
 * its first bytes `head`: `segment … for magic`). `warn` hears of schema files that could not be read.
 */
export async function findBinding(state: vscode.Memento, id: Identity | undefined, target: string, warn: (line: string) => void, head?: Uint8Array): Promise<BindingRef | undefined> {
  if (id) {
    const manual = manualBindings(state)[identityText(id)];
    if (manual && typeof manual.file === 'string') return { file: vscode.Uri.parse(manual.file), ...(manual.type ? { type: manual.type } : {}), how: 'bound by hand' };
  }
  const settings = readConfig(vscode.workspace.getConfiguration(SECTION)).schemas;
  for (const k of [target, ...(id ? [identityText(id)] : [])]) {
    const v = settings[k] ?? Object.entries(settings).find(([key]) => key.toLowerCase() === k.toLowerCase())?.[1];
    if (v) return parseRef(v, `shmscope.schemas["${k}"]`);
  }
  if (!id) return undefined;
  for (const file of await schemaFiles()) {
    let schema: Schema;
    try {
      schema = compileSchema(await schemaText(file), file.toString(), { includePath: schemaIncludePath() });
    } catch (e) {
      warn(`schema ${vscode.workspace.asRelativePath(file)}: ${(e as Error).message}`);
      continue;
    }
    // A System V segment binds by its id first (`for id N`), keyed or not.
    const shmId = /^shm:(\d+)$/.exec(target)?.[1];
    const bound = resolveBinding([schema], { identity: id, ...(shmId !== undefined ? { shmId: Number(shmId) } : {}), ...(head ? { head } : {}) });
    const seg = bound?.segment;
    if (seg && shmId !== undefined && seg.segment?.binding?.kind === 'id') return { file, type: seg.name, how: `segment ${seg.name} for id ${shmId}` };
    if (seg && (seg.segment?.binding?.kind === 'magic' || !seg.segment)) return { file, type: seg.name, how: `${seg.name} by its first bytes (magic ${seg.segment?.binding?.value ?? seg.magic})` };
    if (seg) return { file, type: seg.name, how: `segment ${seg.name} for ${typeof id.value === 'string' ? `${id.kind}${id.kind === 'anon' ? ' of' : ''} "${id.value}"` : identityText(id).replace(':', ' ')}` };
  }
  return undefined;
}

/** Compiles the schema a binding points at; throws with a sentence when the file or type is missing. */
export async function loadBinding(ref: BindingRef): Promise<SchemaBinding> {
  const name = ref.file.path.split('/').pop() ?? ref.file.path;
  let text: string;
  try {
    text = await schemaText(ref.file);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(code === 'FileNotFound' || /ENOENT|not found/i.test(String(e)) ? `the schema ${vscode.workspace.asRelativePath(ref.file)} does not exist` : `the schema ${vscode.workspace.asRelativePath(ref.file)} could not be read: ${(e as Error).message}`, { cause: e });
  }
  const schema = compileSchema(text, ref.file.toString(), { includePath: schemaIncludePath() });
  const t = ref.type ? findType(schema, ref.type) : defaultSegment(schema);
  const typeName = ref.type ?? t?.name;
  return { schema, ...(ref.type ? { type: ref.type } : {}), label: `${name} · ${typeName ?? '(no segment)'}`, how: ref.how };
}
