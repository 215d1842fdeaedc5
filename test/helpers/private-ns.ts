// Re-executes the current test file inside namespaces of its own (as root, as here and in CI) and
// exits with its status; inside, returns at once. The child inherits stdout, so the test runner
// reads its results as if the file ran directly. test/hostile/namespace.ts uses it for an IPC and
// mount namespace; a test that needs to see only its own processes adds a pid namespace with its
// own /proc. The namespaces themselves come from scripts/namespace.mjs.
import { spawnSync } from 'node:child_process';
import { namespaceArgv, type NamespaceOptions } from '../../scripts/namespace.mjs';

/** `ns`: the namespaces and their setup (scripts/namespace.mjs); `what` names them in an error. */
export function reexecInNamespaces(mark: string, ns: NamespaceOptions, what: string): void {
  if (process.env[mark] === '1') return;
  const [bin = 'unshare', ...args] = namespaceArgv([process.execPath, ...process.execArgv, ...process.argv.slice(1)], ns);
  const r = spawnSync(bin, args, {
    stdio: 'inherit',
    env: { ...process.env, [mark]: '1' },
  });
  if (r.error || r.status === null) {
    process.stderr.write(`${what} (${[bin, ...args.slice(0, args.indexOf('--'))].join(' ')}, as root): ${r.error?.message ?? `signal ${r.signal}`}\n`);
    process.exit(1);
  }
  process.exit(r.status);
}
