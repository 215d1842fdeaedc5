// `shmscope import PROGRAM|LIBRARY|DEBUGFILE|pid:N`: types from a program's debug information,
// read by native/src/dwarf.cc (elfutils' libdw) in this CLI process only (the editor runs the CLI
// as a child), then written as a schema by the engine's DWARF front end.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeDwarfSchema, InexpressibleError, type DwarfImportResult, type DwarfTypes } from '../shared/schema/import-dwarf';
import { binding, type RawMapping } from '../ipc/native';
import { UserError } from './errors';

interface DwarfBinding {
  /** The types come as the JSON text of their array (one parse instead of a property set per field). */
  readTypes(file: string, names: string[], all: boolean): Omit<DwarfTypes, 'types'> & { types: string };
  listTypes(file: string): string[];
}

const FILE = 'shmscope_dwarf.node';
export const LIBDW_HINT = 'importing from a program needs the DWARF reader, built with elfutils\' libdw: apt-get install libdw-dev, then npm run build';

function load(): DwarfBinding {
  const list: string[] = [];
  if (process.env.SHMSCOPE_DWARF_NATIVE) list.push(path.resolve(process.env.SHMSCOPE_DWARF_NATIVE));
  list.push(path.join(__dirname, FILE));
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) list.push(path.join(dir, 'native', 'build', 'Release', FILE));
  for (const file of list) {
    if (!existsSync(file)) continue;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon loads only through require, by its path
      return require(file) as DwarfBinding;
    } catch {
      // libdw.so missing at run time: the same one line below.
    }
  }
  throw new UserError(LIBDW_HINT);
}

/** Whether the file starts with the ELF magic (a program, library, object or debug file). */
export function isElf(file: string): boolean {
  let fd: number | undefined;
  try {
    if (!statSync(file).isFile()) return false;
    fd = openSync(file, 'r');
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** How long `pid:N` waits for the process's memory maps (a process can hold them indefinitely). */
const MAPS_BUDGET_MS = 2000;

/**
 * A process's executable and the ELF files it has mapped (its shared libraries), from its
 * /proc/PID/maps read by the addon's one maps parser, off the JS thread and by a deadline.
 */
async function filesOfProcess(pid: number): Promise<string[]> {
  let maps: RawMapping[];
  try {
    maps = await binding().mapsOf(pid, MAPS_BUDGET_MS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such process' : code === 'EACCES' ? 'permission denied' : code === 'ETIMEDOUT' ? `they did not answer within ${MAPS_BUDGET_MS} ms` : (e as Error).message;
    throw new UserError(`cannot read the mappings of pid ${pid}: ${why}`);
  }
  const files = [`/proc/${pid}/exe`];
  for (const { path: f } of maps) {
    if (f.startsWith('/') && !f.endsWith(' (deleted)') && !f.startsWith('/dev/') && !files.includes(f)) files.push(f);
  }
  return files.filter((f) => f === files[0] || isElf(f));
}

/** The names of every type a program (or `pid:N`: its executable and libraries) defines, sorted. */
export async function listProgramTypes(input: string): Promise<string[]> {
  const pid = /^pid:(\d+)$/.exec(input);
  const files = pid ? await filesOfProcess(Number(pid[1])) : [path.resolve(input)];
  const binding = load();
  const names = new Set<string>();
  let firstError: string | undefined;
  for (const file of files) {
    try {
      for (const n of binding.listTypes(file)) names.add(n);
    } catch (e) {
      firstError ??= `${file}: ${(e as Error).message}`;
    }
  }
  if (!names.size && firstError) throw new UserError(firstError);
  return [...names].sort();
}

export interface DwarfImportOptions {
  types: string[];
  allTypes: boolean;
}

/** The schema of the named types (or all) of a program, library, debug file or `pid:N`. */
export async function importProgram(input: string, opts: DwarfImportOptions): Promise<DwarfImportResult> {
  const pid = /^pid:(\d+)$/.exec(input);
  const files = pid ? await filesOfProcess(Number(pid[1])) : [path.resolve(input)];
  if (!opts.types.length && !opts.allTypes) throw new UserError('name the types to import with --type NAME (repeatable), or --all-types');
  const binding = load();
  let wanted = [...opts.types];
  let best: { data: DwarfTypes; file: string } | undefined;
  let firstError: string | undefined;
  for (const file of files) {
    let data: DwarfTypes;
    try {
      const raw = binding.readTypes(file, wanted, opts.allTypes);
      data = { ...raw, types: JSON.parse(raw.types) as DwarfTypes['types'] };
    } catch (e) {
      // A library of the process without debug information is not an error of the import.
      firstError ??= `${file === files[0] && pid ? `pid ${pid[1]}'s executable` : file}: ${(e as Error).message}`;
      continue;
    }
    if (!best || Object.keys(data.roots).length > Object.keys(best.data.roots).length) best = { data, file };
    if (!opts.allTypes) {
      wanted = wanted.filter((n) => !(n in data.roots));
      if (!wanted.length) break;
    }
    if (!pid) break;
  }
  if (!best) throw new UserError(firstError ?? `${input}: nothing to read`);
  const missing = opts.types.filter((n) => !(n in best.data.roots));
  if (missing.length) throw new UserError(`${input}: no type named ${missing.join(', ')} in its debug information${pid ? ' (the executable or a library that has all of them)' : ''}`);
  try {
    return writeDwarfSchema(best.data, pid ? `pid ${pid[1]} (${best.file})` : best.file, opts.allTypes);
  } catch (e) {
    if (e instanceof InexpressibleError) throw new UserError(`cannot import: ${e.message}`);
    throw e;
  }
}
