// One home for "run this in a private namespace": whether this machine can (root, util-linux's
// unshare, setpriv; probed once each), the argv that runs a command in fresh IPC and mount
// namespaces (and optionally a pid namespace) with the standard setup, and the one note printed
// where it cannot. Used by the test runners, the bench, the workbench and the test files that
// re-run themselves in there (test/helpers/private-ns.ts). Scenarios that play a second machine
// or a container (test/helpers/ns-scenario.ts, test/helpers/postgres.ts) build their own.
import { spawnSync } from 'node:child_process';

/** @type {boolean | undefined} */
let unshareProbe;
/** @type {boolean | undefined} */
let killWithParentProbe;

/** Whether commands can run in IPC and mount namespaces of their own (root, `unshare`). */
export function canUnshare() {
  unshareProbe ??= spawnSync('unshare', ['--ipc', '--mount', '--', 'true']).status === 0;
  return unshareProbe;
}

/**
 * Whether they can also run in a pid namespace that the kernel ends with its caller (`setpriv
 * --pdeathsig` and `unshare --kill-child`).
 */
export function canKillWithParent() {
  killWithParentProbe ??= canUnshare() && spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', '--pid', '--fork', '--kill-child=KILL', '--mount-proc', '--', 'true']).status === 0;
  return killWithParentProbe;
}

/** The note where there are no such namespaces; `consequence` says what runs where instead. */
export function notRootNote(consequence) {
  return `no \`unshare --ipc --mount\` here (not root?): ${consequence}`;
}

/** `s` quoted for sh. */
function shellQuote(s) {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/**
 * The argv (program first) that runs `command` in fresh IPC and mount namespaces: private mount
 * propagation, a tmpfs named `o.name` on /dev/shm, and optionally /dev/mqueue, a tmpfs on a temp
 * folder, a pid namespace with its own /proc, and a probe command run in there after the command
 * ends (the exit status stays the command's; without a probe the command replaces the shell).
 * @param {string[]} command
 * @param {object} o
 * @param {string} o.name the tmpfs' source name (seen in /proc/mounts): shmscope-test, say
 * @param {string} [o.shmSize] a size limit for the /dev/shm tmpfs (64m, say)
 * @param {boolean | 'create'} [o.mqueue] mount a fresh mqueue on /dev/mqueue when that folder
 *   exists ('create': creating it first)
 * @param {string} [o.tmpDir] a folder to mount a fresh tmpfs on (`${name}-tmp`)
 * @param {boolean | 'kill-with-parent'} [o.pid] a pid namespace too, the command's processes
 *   seeing only theirs in /proc ('kill-with-parent': the kernel ends them all when this process
 *   ends, a SIGKILL included; only where canKillWithParent())
 * @param {string[]} [o.probe] run after the command, in the namespaces
 * @returns {string[]}
 */
export function namespaceArgv(command, o) {
  const setup = [
    'mount --make-rprivate /',
    `mount -t tmpfs -o mode=1777${o.shmSize ? `,size=${o.shmSize}` : ''} ${o.name} /dev/shm`,
    ...(o.mqueue === 'create' ? [`mkdir -p /dev/mqueue && mount -t mqueue ${o.name} /dev/mqueue`] : []),
    ...(o.mqueue === true ? [`{ [ ! -d /dev/mqueue ] || mount -t mqueue ${o.name} /dev/mqueue; }`] : []),
    ...(o.tmpDir ? [`mount -t tmpfs -o mode=1777 ${o.name}-tmp ${shellQuote(o.tmpDir)}`] : []),
    o.probe ? `{ "$@"; status=$?; ${o.probe.map(shellQuote).join(' ')}; exit $status; }` : 'exec "$@"',
  ].join(' && ');
  const pid = o.pid === 'kill-with-parent' ? ['--pid', '--fork', '--kill-child=KILL', '--mount-proc'] : o.pid ? ['--pid', '--fork', '--mount-proc'] : [];
  return [
    ...(o.pid === 'kill-with-parent' ? ['setpriv', '--pdeathsig', 'KILL', '--'] : []),
    'unshare', '--ipc', '--mount', ...pid, '--', 'sh', '-c', setup, 'sh', ...command,
  ];
}
