// The hostile suite runs in an IPC and mount namespace of its own, with a fresh tmpfs on /dev/shm,
// so that the garbage, FIFOs, symlinks and truncations it makes never touch the machine's objects
// (nor another test run's). Importing this module first re-executes the test file inside
// `unshare --ipc --mount` (as root, as here and in CI) and exits with its status; inside, it does
// nothing. The child inherits stdout, so the test runner reads its results as if it ran directly.
import { spawnSync } from 'node:child_process';

const MARK = 'SHMSCOPE_HOSTILE_NAMESPACE';

if (process.env[MARK] !== '1') {
  const setup = 'mount --make-rprivate / && mount -t tmpfs -o mode=1777,size=1g shmscope-hostile /dev/shm && exec "$@"';
  const r = spawnSync('unshare', ['--ipc', '--mount', '--', 'sh', '-c', setup, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1' },
  });
  if (r.error || r.status === null) {
    process.stderr.write(`the hostile suite needs its own IPC and mount namespace (unshare --ipc --mount, as root): ${r.error?.message ?? `signal ${r.signal}`}\n`);
    process.exit(1);
  }
  process.exit(r.status);
}

/** True inside the private namespace (always, once this module has been imported). */
export const inPrivateNamespace = true;
