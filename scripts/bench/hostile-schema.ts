// Hostile schema benchmark (issue 18): what a repository may hold, compiled as the language server
// and the Shared Memory view do: a header that includes itself twice at every level, a 790-byte
// doubling macro, 200 000 nested `#if 1`, and `#include "/proc/self/pagemap"`. Each must end with
// a diagnostic; goal: the worst under a second (the per-compile step budget and the #if depth cap).
//   node --import tsx scripts/bench/hostile-schema.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileSchema } from '../../extension/src/shared/schema';

const dir = mkdtempSync(path.join(tmpdir(), 'shmscope-bench-hostile-'));
try {
  writeFileSync(path.join(dir, 'self.h'), '#include "self.h"\n#include "self.h"\n');
  const cases: Record<string, string> = {
    'include fan-out': '#include "self.h"\nstruct s { int a; };\n',
    'doubling macro': `#define A0(x) x x\n${Array.from({ length: 29 }, (_, i) => `#define A${i + 1}(x) A${i}(A${i}(x))`).join('\n')}\nA29(int) b;\n`,
    '200 000 nested #if': `${'#if 1\n'.repeat(200_000)}struct s { int a; };\n${'#endif\n'.repeat(200_000)}`,
    '/proc/self/pagemap': '#include "/proc/self/pagemap"\nstruct s { int a; };\n',
  };
  const times: string[] = [];
  let worst = 0;
  for (const [name, text] of Object.entries(cases)) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const s = compileSchema(text, path.join(dir, 'hostile.shms'));
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    if (!s.diagnostics.some((d) => d.severity === 'error')) throw new Error(`${name}: no error`);
    worst = Math.max(worst, ms);
    times.push(`${name} ${ms.toFixed(0)} ms (CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms)`);
  }
  process.stdout.write(`${JSON.stringify({ 'schema.hostileWorstMs': { value: Math.round(worst), goal: '< 1000', detail: times.join(', ') } })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
