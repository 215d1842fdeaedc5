// Types of env.mjs.
export const NODE_VERSION: string;
export const CODE_SERVER_VERSION: string;
export const CHROMIUM: string;
export function cacheDir(): string;
export interface EditorEnv {
  cacheDir: string;
  nodeDir: string;
  node: string;
  codeServerDir: string;
  codeServerEntry: string;
  chromium: string;
}
export function ensureEditorEnv(): EditorEnv;
