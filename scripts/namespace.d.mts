// Types of namespace.mjs for the TypeScript files that import it.
export function canUnshare(): boolean;
export function canKillWithParent(): boolean;
export function notRootNote(consequence: string): string;
export interface NamespaceOptions {
  name: string;
  shmSize?: string;
  mqueue?: boolean | 'create';
  tmpDir?: string;
  pid?: boolean | 'kill-with-parent';
  probe?: string[];
}
export function namespaceArgv(command: string[], o: NamespaceOptions): string[];
