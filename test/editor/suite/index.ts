// The in-host test runner: loaded by the workbench through extensionTestsPath. run() settles when
// mocha ends; each test's result is appended to $SHMSCOPE_TEST_RESULTS (mocha's console output is
// not visible anywhere from an extension host).
import { appendFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const out = process.env.SHMSCOPE_TEST_RESULTS;
  const record = (r: Record<string, unknown>) => {
    if (out) appendFileSync(out, `${JSON.stringify(r)}\n`);
  };
  const mocha = new Mocha({ ui: 'tdd', timeout: 60_000, color: false, reporter: 'dot' });
  if (process.env.SHMSCOPE_TEST_GREP) mocha.grep(process.env.SHMSCOPE_TEST_GREP);
  for (const f of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
      runner.on('pass', (t) => record({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
      runner.on('fail', (t, err: Error) => record({ title: t.fullTitle(), state: 'failed', error: err?.stack ?? String(err) }));
    } catch (e) {
      record({ title: 'loading the suites', state: 'failed', error: e instanceof Error ? e.stack : String(e) });
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
