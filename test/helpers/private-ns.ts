// Re-executes the current test file inside namespaces of its own (as root, as here and in CI) and
// exits with its status; inside, returns at once. The child inherits stdout, so the test runner
// reads its results as if the file ran directly. test/hostile/namespace.ts uses it for an IPC and
// mount namespace; a test that needs to see only its own processes adds a pid namespace with its
// own /proc.
import { spawnSync } from 'node:child_process';

/** `flags` for unshare; `setup` runs in sh before the test (a fresh tmpfs on /dev/shm, say). */
export function reexecInNamespaces(mark: string, flags: string[], setup: string, what: string): void {
  if (process.env[mark] === '1') return;
  const r = spawnSync('unshare', [...flags, '--', 'sh', '-c', `${setup} && exec "$@"`, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [mark]: '1' },
  });
  if (r.error || r.status === null) {
    process.stderr.write(`${what} (unshare ${flags.join(' ')}, as root): ${r.error?.message ?? `signal ${r.signal}`}\n`);
    process.exit(1);
  }
  process.exit(r.status);
}
