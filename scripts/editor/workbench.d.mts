// Types of workbench.mjs for the TypeScript tests that import it.
import type { Browser } from 'playwright-core';

export const QUIET_SETTINGS: Record<string, unknown>;
export function freePort(): Promise<number>;
export function isolatedEnv(runDir: string, extra?: Record<string, string>): NodeJS.ProcessEnv;
export function installVsix(vsix: string, extensionsDir: string, runDir: string): string;
export interface Workbench {
  url: string;
  port: number;
  runDir: string;
  logsDir: string;
  pid: number;
  stop(): Promise<void>;
  /** Copies the server and extension host logs to dest; undefined when there are none yet. */
  saveLogs(dest: string): string | undefined;
  exited: Promise<{ code: number | null; signal: string | null }>;
}
export interface WorkbenchOptions {
  folder: string;
  extensionDevelopmentPath?: string;
  /** Install this checkout as an ordinary extension (linked): a normal window, with toasts. */
  extensionLink?: string;
  extensionTestsPath?: string;
  extensionEnvironment?: Record<string, string>;
  port?: number;
  vsix?: string[];
  smokeTestDriver?: boolean;
  settings?: Record<string, unknown>;
  keepRunDir?: boolean;
  /** Run code-server in IPC, mount and pid namespaces of its own, with a fresh /dev/shm and /proc (root). */
  privateNamespace?: boolean;
  env?: Record<string, string>;
  onOutput?: (line: string) => void;
}
export function startWorkbench(o: WorkbenchOptions): Promise<Workbench>;
export function launchBrowser(runDir: string, opts?: { headless?: boolean }): Promise<Browser>;
/** Runs a hook when a test process is interrupted, before its workbenches end. */
export function onInterrupt(hook: (signal: NodeJS.Signals) => void): void;
/** For test processes: on SIGINT, SIGTERM or SIGHUP, end every workbench still up and exit 128+N. */
export function endWorkbenchesOnInterrupt(): void;
