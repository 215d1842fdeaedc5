// A page in two bundles (scripts/build.mjs builds the inspector page with it): `entry`, inlined
// into the page's HTML and run before the first paint, and `rest`, which the page loads by URL
// after its first frame, so the first paint parses only what it needs.
//
// Every module is in one bundle only. The rest is built first against a probe of the entry's
// modules: an import of a module the entry has resolves to a stub that takes the entry's own
// instance from `globalThis.shmscopeModules` (one class, one module state, `instanceof` holds
// across the two). The entry is then built with a first module that registers exactly those
// modules there. The page must load the rest only after the entry's script has run (it does:
// after a frame).
import path from 'node:path';

/** The registry's name on the page's global object. */
export const REGISTRY = 'shmscopeModules';

const key = (root, file) => path.relative(root, file).split(path.sep).join('/');

/**
 * Builds `entry` → `out` and `rest` → `restOut` (paths relative to `root`) with the esbuild
 * `options` of a browser bundle. Returns both builds' metafiles and the modules the rest takes
 * from the entry. With `write: false` in `options`, nothing is written (for the tests).
 */
export async function splitPage(esbuild, { root, entry, rest, out, restOut, options }) {
  const common = { ...options, absWorkingDir: root, bundle: true, format: 'iife', platform: 'browser', metafile: true };
  // 1. Which modules the entry has.
  const probe = await esbuild.build({ ...common, entryPoints: [path.join(root, entry)], outfile: path.join(root, out), write: false, sourcemap: false });
  const entryModules = new Set(Object.keys(probe.metafile.inputs).filter((f) => !f.endsWith('.css')));
  // 2. The rest, with the entry's modules as stubs onto the registry.
  const shared = new Set();
  const fromEntry = {
    name: 'from-entry',
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === 'entry-point' || args.pluginData?.plain) return undefined;
        const r = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { plain: true } });
        if (r.errors.length) return { errors: r.errors };
        const k = key(root, r.path);
        if (!entryModules.has(k)) return { path: r.path, namespace: r.namespace, sideEffects: r.sideEffects };
        shared.add(k);
        return { path: k, namespace: 'entry-module' };
      });
      b.onLoad({ filter: /.*/, namespace: 'entry-module' }, (args) => ({
        contents: `module.exports = globalThis.${REGISTRY}[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }));
    },
  };
  const restBuild = await esbuild.build({ ...common, entryPoints: [path.join(root, rest)], outfile: path.join(root, restOut), plugins: [fromEntry] });
  // 3. The entry, registering what the rest takes from it.
  const names = [...shared].sort();
  const contents = [
    `import ${JSON.stringify(`./${entry}`)};`,
    ...names.map((k, i) => `import * as m${i} from ${JSON.stringify(`./${k}`)};`),
    `globalThis.${REGISTRY} = { ${names.map((k, i) => `${JSON.stringify(k)}: m${i}`).join(', ')} };`,
  ].join('\n');
  const entryBuild = await esbuild.build({ ...common, stdin: { contents, resolveDir: root, sourcefile: `${path.basename(entry)}.boot.js`, loader: 'js' }, outfile: path.join(root, out) });
  return { entry: entryBuild.metafile, rest: restBuild.metafile, shared: names };
}
