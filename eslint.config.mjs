// Lint: typescript-eslint's type-checked recommended rules over all TypeScript (the extension,
// the page, the tests and the scripts), ESLint's recommended rules over the .mjs build and test
// tooling. `npm run lint`; `npm test` runs it first. Rule choices are explained in the README.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', '.vscode-test/**', '.test-artifacts/**', 'test/editor/workspace/**', 'demo/workspace/**', '*.vsix'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_`-prefixed parameters and rest siblings are deliberate (handlers with a fixed signature).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Numbers and booleans in template literals read as intended (`${size} bytes`); objects do not.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // A void callback may be async where the caller ignores its promise on purpose (DOM and VS Code
      // event listeners); a promise in a condition or spread is still an error.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The schema engine stays split by stage and by form: no function of more than 150 lines
    // (blank lines and comments count; a class's methods are each a function of their own).
    files: ['extension/src/shared/schema/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 150, skipBlankLines: false, skipComments: false, IIFEs: true }] },
  },
  {
    files: ['webview-ui/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // node:test's describe/it return promises that its runner awaits itself.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] }],
      // Tests read what they assert from loosely typed results (command return values, JSON).
      '@typescript-eslint/no-explicit-any': 'off',
      // Tests match the escape sequences that output must not contain.
      'no-control-regex': 'off',
      // Assertions check that a method is there (`assert.ok(node.encode)`) before calling it.
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
