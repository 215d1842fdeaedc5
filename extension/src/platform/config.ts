// Every setting of the extension in one typed table: key, type, default, allowed values and the
// sentence package.json documents. No vscode import: the table is checked against package.json by a
// unit test, and reading goes through any `get(key)` (vscode's WorkspaceConfiguration fits).

/** One setting as package.json's contributes.configuration declares it. */
export interface SettingSpec<T> {
  type: 'integer' | 'boolean' | 'string' | 'object' | 'array';
  default: T;
  minimum?: number;
  maximum?: number;
  enum?: readonly T[];
  description: string;
  /** `machine`: only user settings may set it, never a workspace's `.vscode/settings.json`. */
  scope?: 'machine';
  /**
   * It names a command to run or a path to read: listed in package.json's
   * `capabilities.untrustedWorkspaces.restrictedConfigurations`, so that a cloned repository's
   * settings count only once the user trusts the folder.
   */
  restricted?: true;
}

/** Keys under the `shmscope.` section. */
export const SETTINGS = {
  refreshIntervalMs: {
    type: 'integer',
    default: 5000,
    minimum: 0,
    maximum: 3_600_000,
    description: 'How often the Shared Memory explorer re-lists objects, in milliseconds (0 turns periodic refresh off; /dev/shm changes still refresh it).',
  } satisfies SettingSpec<number>,
  watchDevShm: {
    type: 'boolean',
    default: true,
    description: 'Refresh the Shared Memory explorer when files in /dev/shm appear or disappear.',
  } satisfies SettingSpec<boolean>,
  semaphoreWaitTimeoutMs: {
    type: 'integer',
    default: 30_000,
    minimum: 1,
    maximum: 86_400_000,
    description: 'How long Semaphore Wait… waits before giving up, in milliseconds (the prompt offers this value).',
  } satisfies SettingSpec<number>,
  peekMaxMessages: {
    type: 'integer',
    default: 100,
    minimum: 1,
    maximum: 10_000,
    description: 'How many messages Peek Messages reads from a queue, at most.',
  } satisfies SettingSpec<number>,
  'explorer.onlyMine': {
    type: 'boolean',
    default: false,
    description: 'Show only objects owned by the current user in the Shared Memory explorer.',
  } satisfies SettingSpec<boolean>,
  'explorer.sizeUnits': {
    type: 'string',
    default: 'binary',
    enum: ['binary', 'bytes'] as const,
    description: 'How sizes appear in the explorer: binary units (4 KiB) or exact bytes.',
  } satisfies SettingSpec<string>,
  'explorer.showReadOnlyFiles': {
    type: 'boolean',
    default: false,
    description: 'Show read-only shared mappings of ordinary files (`gconv-modules.cache`, font caches) in the Shared Memory explorer. Hidden by default: no process writes through them.',
  } satisfies SettingSpec<boolean>,
  devShmWarnPercent: {
    type: 'integer',
    default: 80,
    minimum: 1,
    maximum: 100,
    description: 'A `/dev/shm` mount (ours or a container\'s) fuller than this percent shows in the warning colour in the Shared Memory explorer.',
  } satisfies SettingSpec<number>,
  'inspector.refreshMs': {
    type: 'integer',
    default: 500,
    minimum: 0,
    maximum: 600_000,
    description: 'How often (milliseconds) an inspector re-reads the bytes it shows and highlights those that changed. `0` turns live refresh off. Each tab also has Pause/Resume.',
  } satisfies SettingSpec<number>,
  'inspector.bytesPerRow': {
    type: 'integer',
    default: 16,
    minimum: 1,
    maximum: 64,
    description: "Bytes shown per row in the inspector's hex grid.",
  } satisfies SettingSpec<number>,
  schemas: {
    type: 'object',
    default: {},
    description: 'Schemas to bind to objects when an inspector opens them, besides `segment … for` declarations: keys are targets (`key:0x52494e47`, `shm:32770`, `posix:/ring`), values are `.shms` paths (relative to the workspace folder), optionally with `#Type` to pick the type to decode, e.g. `{ "key:0x52494e47": "schemas/ring.shms#Ring" }`.',
    restricted: true,
  } satisfies SettingSpec<Record<string, string>>,
  'recording.hz': {
    type: 'integer',
    default: 10,
    minimum: 1,
    maximum: 1000,
    description: 'Frames per second that Start Recording takes of an inspected object.',
  } satisfies SettingSpec<number>,
  'recording.semaphores': {
    type: 'object',
    default: {},
    description: 'Semaphores whose values ride along with each recorded frame: keys are the recorded targets (`key:0x52494e47`, `shm:32770`, `posix:/ring`), values a semaphore set (`sem:ID`, `key:0x…`) or `psem:/NAME`, or `""` for none. Without an entry, a segment records the semaphore set with its own key, if there is one.',
  } satisfies SettingSpec<Record<string, string>>,
  'watch.windowSeconds': {
    type: 'integer',
    default: 60,
    minimum: 5,
    maximum: 3600,
    description: 'How many seconds of a live inspector a Watch plot shows.',
  } satisfies SettingSpec<number>,
  'waits.refreshMs': {
    type: 'integer',
    default: 2000,
    minimum: 0,
    maximum: 3_600_000,
    description: 'How often the Waits view re-scans which threads wait on which object, in milliseconds, while it or the Wait-for Graph is visible (0: only on demand).',
  } satisfies SettingSpec<number>,
  'waits.stuckAfterMs': {
    type: 'integer',
    default: 10_000,
    minimum: 100,
    maximum: 86_400_000,
    description: 'A wait is marked stuck when its object has not changed for this many milliseconds (the waited word, or a semaphore set\'s last operation).',
  } satisfies SettingSpec<number>,
  'schema.inlayHints': {
    type: 'boolean',
    default: true,
    description: "Show each member's byte offset as an inlay hint in `.shms` schema files.",
  } satisfies SettingSpec<boolean>,
  'schema.includePath': {
    type: 'array',
    default: [],
    description: 'Folders searched for `#include` files of `.shms` schemas and imported headers, before the system include folders (absolute, or relative to the workspace folder), like `-I` for a compiler.',
    restricted: true,
  } satisfies SettingSpec<string[]>,
  'schema.cpp': {
    type: 'string',
    default: '',
    description: 'A preprocessor command for **Import C Header as Schema…**, e.g. `cc -E -DMY_FLAG`: the header is preprocessed by your own compiler with your flags instead of the engine\'s preprocessor. Empty: the engine\'s. A command that runs: only your user settings may set it.',
    scope: 'machine',
    restricted: true,
  } satisfies SettingSpec<string>,
} as const;

export type SettingKey = keyof typeof SETTINGS;
export const SECTION = 'shmscope';

export interface Config {
  refreshIntervalMs: number;
  watchDevShm: boolean;
  semaphoreWaitTimeoutMs: number;
  peekMaxMessages: number;
  onlyMine: boolean;
  /** `shmscope.explorer.showReadOnlyFiles`: list read-only mappings of ordinary files too. */
  showReadOnlyFiles: boolean;
  devShmWarnPercent: number;
  sizeUnits: 'binary' | 'bytes';
  inspectorRefreshMs: number;
  bytesPerRow: number;
  /** Target → schema path (with an optional `#Type`); entries that are not strings are dropped. */
  schemas: Record<string, string>;
  recordingHz: number;
  /** Recorded target → semaphore target ("" for none). */
  recordingSemaphores: Record<string, string>;
  watchWindowSeconds: number;
  /** `#include` folders of schemas (as written: relative ones are relative to the workspace folder). */
  schemaIncludePath: string[];
  /** `shmscope.schema.cpp`: the import's preprocessor command, or '' for the engine's. */
  schemaCpp: string;
  waitsRefreshMs: number;
  stuckAfterMs: number;
}

/** Anything that answers `get(key)` for keys under `shmscope.`. */
export interface ConfigSource {
  get<T>(key: string): T | undefined;
}

type NumberKey = 'refreshIntervalMs' | 'devShmWarnPercent' | 'semaphoreWaitTimeoutMs' | 'peekMaxMessages' | 'inspector.refreshMs' | 'inspector.bytesPerRow' | 'recording.hz' | 'watch.windowSeconds' | 'waits.refreshMs' | 'waits.stuckAfterMs';

function num(src: ConfigSource, key: NumberKey): number {
  const spec = SETTINGS[key];
  const v = src.get<unknown>(key);
  if (typeof v !== 'number' || !Number.isFinite(v)) return spec.default;
  return Math.min(spec.maximum, Math.max(spec.minimum, Math.floor(v)));
}

function bool(src: ConfigSource, key: 'watchDevShm' | 'explorer.onlyMine' | 'explorer.showReadOnlyFiles'): boolean {
  const v = src.get<unknown>(key);
  return typeof v === 'boolean' ? v : SETTINGS[key].default;
}

function stringMap(v: unknown, keepEmpty = false): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string' && (keepEmpty || x.trim() !== '')) out[k.trim()] = x.trim();
  return out;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim()) : [];
}

/** Reads every setting, falling back to the default for a missing or invalid value. */
export function readConfig(src: ConfigSource): Config {
  const units = src.get<unknown>('explorer.sizeUnits');
  return {
    refreshIntervalMs: num(src, 'refreshIntervalMs'),
    watchDevShm: bool(src, 'watchDevShm'),
    semaphoreWaitTimeoutMs: num(src, 'semaphoreWaitTimeoutMs'),
    peekMaxMessages: num(src, 'peekMaxMessages'),
    onlyMine: bool(src, 'explorer.onlyMine'),
    showReadOnlyFiles: bool(src, 'explorer.showReadOnlyFiles'),
    devShmWarnPercent: num(src, 'devShmWarnPercent'),
    sizeUnits: units === 'bytes' || units === 'binary' ? units : 'binary',
    inspectorRefreshMs: num(src, 'inspector.refreshMs'),
    bytesPerRow: num(src, 'inspector.bytesPerRow'),
    schemas: stringMap(src.get<unknown>('schemas')),
    recordingHz: num(src, 'recording.hz'),
    recordingSemaphores: stringMap(src.get<unknown>('recording.semaphores'), true),
    watchWindowSeconds: num(src, 'watch.windowSeconds'),
    schemaIncludePath: stringList(src.get<unknown>('schema.includePath')),
    schemaCpp: typeof src.get<unknown>('schema.cpp') === 'string' ? (src.get<string>('schema.cpp') ?? '').trim() : '',
    waitsRefreshMs: num(src, 'waits.refreshMs'),
    stuckAfterMs: num(src, 'waits.stuckAfterMs'),
  };
}
