// The hostile suite runs in an IPC and mount namespace of its own, with a fresh tmpfs on /dev/shm,
// so that the garbage, FIFOs, symlinks and truncations it makes never touch the machine's objects
// (nor another test run's). Importing this module first re-executes the test file inside
// `unshare --ipc --mount` (as root, as here and in CI) and exits with its status; inside, it does
// nothing. The child inherits stdout, so the test runner reads its results as if it ran directly.
import { reexecInNamespaces } from '../helpers/private-ns';

reexecInNamespaces(
  'SHMSCOPE_HOSTILE_NAMESPACE',
  { name: 'shmscope-hostile', shmSize: '1g' },
  'the hostile suite needs its own IPC and mount namespace',
);

/** True inside the private namespace (always, once this module has been imported). */
export const inPrivateNamespace = true;
