// Header import benchmark (issue 11): a 100 000-line preprocessed header (structs with bit-fields,
// unions, function pointers, typedefs, enums, prototypes and numeric #defines, as `cc -E` leaves
// them) imported to a schema, against compileSchema of the same text in the same run; best of
// several repetitions. Goal: the import costs at most twice the compile (it is linear, like it).
// And (issue 26) as a user runs it: `shmscope import HEADER -o OUT` against `cc -fsyntax-only` of
// the same header, whole processes.
//   node --import tsx scripts/bench/import.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compileSchema, importHeader } from '../../extension/src/shared/schema';
import { CLI, compare, figure, ROOT, type Run } from './process';

const LINES = 100_000;
function header(): string {
  const out: string[] = [];
  for (let i = 0; out.length + 13 <= LINES; i++) {
    out.push(
      `#define LIMIT_${i} (${i} << 2)`,
      `typedef unsigned int id${i}_t;`,
      `enum state${i} { S${i}_IDLE, S${i}_RUN = ${i % 7}, S${i}_DONE };`,
      `struct rec${i} {`,
      `    id${i}_t id;`,
      '    unsigned int flags : 3, kind : 5;',
      `    union { long long wide; char bytes[8]; } u;`,
      `    struct rec${i} *next;`,
      '    int (*cb)(void *, int);',
      `    enum state${i} state;`,
      `    char name[LIMIT_${i} % 32 + 1];`,
      '} __attribute__((aligned(8)));',
      `extern int rec${i}_open(const char *__restrict path, struct rec${i} **out) __attribute__ ((__nothrow__));`,
    );
  }
  for (let i = 0; out.length < LINES; i++) out.push(`#define PAD_${i} ${i}`);
  return out.join('\n');
}

const text = header();
const best = (f: () => void, n = 3) => {
  let b = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
};
let types = 0;
const check = compileSchema(text, 'bench.h');
if (check.diagnostics.some((d) => d.severity === 'error')) throw new Error(check.diagnostics.find((d) => d.severity === 'error')!.message);
const compileMs = best(() => void compileSchema(text, 'bench.h'));
const importMs = best(() => {
  types = importHeader(text, 'bench.h').types;
});
const ratio = importMs / compileMs;

const outDir = path.join(ROOT, 'out', 'bench');
mkdirSync(outDir, { recursive: true });
const file = path.join(outDir, 'import-100k.h');
writeFileSync(file, text);
const IMPORT: Run = { name: 'shmscope import -o', cmd: process.execPath, args: [CLI, 'import', file, '-o', path.join(outDir, 'import-100k.shms')] };
const CC: Run = { name: 'cc -fsyntax-only', cmd: 'cc', args: ['-fsyntax-only', '-x', 'c', file] };
const whole = compare(5, IMPORT, CC);
process.stdout.write(
  `${JSON.stringify({
    'import.ratioVsCompile': {
      value: Number(ratio.toFixed(3)),
      goal: '≤ 2',
      detail: `import of ${LINES} preprocessed lines (${types} type declarations) ${importMs.toFixed(0)} ms vs compileSchema of the same text ${compileMs.toFixed(0)} ms`,
    },
    'import.processRatioVsCc': figure(whole, 'reported', `the ${LINES}-line header`, IMPORT, CC),
  })}\n`,
);
