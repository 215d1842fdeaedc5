// Header import benchmark (issue 11): a 100 000-line preprocessed header (structs with bit-fields,
// unions, function pointers, typedefs, enums, prototypes and numeric #defines, as `cc -E` leaves
// them) imported to a schema, against compileSchema of the same text in the same run; best of
// several repetitions. Goal: the import costs at most twice the compile (it is linear, like it).
//   node --import tsx scripts/bench/import.ts
import { compileSchema, importHeader } from '../../extension/src/shared/schema';

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
process.stdout.write(
  `${JSON.stringify({
    'import.ratioVsCompile': {
      value: Number(ratio.toFixed(3)),
      goal: '≤ 2',
      detail: `import of ${LINES} preprocessed lines (${types} type declarations) ${importMs.toFixed(0)} ms vs compileSchema of the same text ${compileMs.toFixed(0)} ms`,
    },
  })}\n`,
);
