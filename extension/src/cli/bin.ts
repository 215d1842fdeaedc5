// The `shmscope` executable (dist/cli.js): as small as it can be, so that every call pays only for
// what its command needs. It turns on V8's compile cache where Node offers it (Node ≥ 22.1: the
// bundles below are compiled once, then read from the cache; a no-op on older Node), then loads
// the command line (dist/cli-main.js), whose commands load their own modules on first use.
import nodeModule from 'node:module';
import path from 'node:path';

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the cache is on, by its path beside this file
const cli = require(path.join(__dirname, 'cli-main.js')) as { main(argv: string[]): Promise<void> };
void cli.main(process.argv);
