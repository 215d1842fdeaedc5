// A process that owns a PostgreSQL cluster, for test/cli/postgres-cleanup.test.ts: starts one on
// the port given (in TMPDIR), prints its folder as one JSON line, then waits to be killed; with
// `--throw`, fails when a line comes on its standard input and exits (an uncaught error, a
// runner's process.exit): no after() runs.
//   node --import tsx test/helpers/postgres-owner.ts PORT [--throw]
import { Cluster } from './postgres';

async function main(): Promise<void> {
  const [port, mode] = process.argv.slice(2);
  const c = await Cluster.start(Number(port));
  process.stdout.write(`${JSON.stringify({ dir: c.dir })}\n`);
  if (mode === '--throw') {
    await new Promise((resolve) => process.stdin.once('data', resolve));
    throw new Error('failed with the cluster up');
  }
  setInterval(() => undefined, 1 << 30);
}

void main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
