#!/usr/bin/env node
// `npm run bench [-- --json] [-- --only core,decode]`: runs every scripts/bench/*.ts (each prints one
// JSON line of { name: { value, goal, detail } }), then prints the figures beside their goals, or
// one JSON object with --json. Ratios are against baselines measured in the same run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set(args[onlyAt + 1]?.split(',')) : undefined;

const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) process.exit(1);

const benches = readdirSync(path.join(root, 'scripts', 'bench'))
  .filter((f) => f.endsWith('.ts') && (!only || only.has(f.replace(/\.ts$/, ''))))
  .sort();
const results = {};
let failed = false;
for (const file of benches) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'bench', file)], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.trim().split('\n').pop();
  try {
    if (r.status !== 0) throw new Error(`exit ${r.status}`);
    Object.assign(results, JSON.parse(line));
  } catch (e) {
    failed = true;
    process.stderr.write(`bench ${file} failed: ${e.message}\n`);
  }
}

if (json) {
  process.stdout.write(`${JSON.stringify(results)}\n`);
} else {
  const rows = Object.entries(results).map(([name, r]) => [name, typeof r.value === 'number' && r.value < 100 ? r.value.toFixed(3) : String(r.value), r.goal, r.detail]);
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length), ['figure', 'value', 'goal'][c].length));
  const line = (row) => `${row[0].padEnd(w[0])}  ${row[1].padStart(w[1])}  ${row[2].padEnd(w[2])}  ${row[3]}`;
  console.log(line(['figure', 'value', 'goal', 'how']));
  for (const row of rows) console.log(line(row));
}
process.exit(failed ? 1 : 0);
