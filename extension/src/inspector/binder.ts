// Which schema an inspector tab decodes with, kept current: the binding found for the object (by
// hand, setting, or `segment … for`), re-compiled as its file is edited (the open editor's text,
// unsaved edits included) or changes on disk.
import * as vscode from 'vscode';
import { findBinding, loadBinding, rememberBinding, type BindingRef, type Identity } from './binding';
import type { SchemaBinding } from './schemaview';

/** Edits of a bound schema re-bind after the typing pauses this long. */
const REBIND_DEBOUNCE_MS = 300;

export interface BinderHost {
  readonly target: string;
  readonly identity: Identity | undefined;
  readonly workspaceState: vscode.Memento;
  /** The object's first bytes, for `segment … for magic` (an unnamed memfd or anonymous region). */
  head?(): Uint8Array | undefined;
  /** Binds (or unbinds) in the tab's session. */
  apply(b: SchemaBinding | undefined): void;
  /** The schema could not be loaded: the page says so. */
  problem(label: string | undefined, how: string, message: string): void;
  log: { info(l: string): void; warn(l: string): void };
}

export class SchemaBinder implements vscode.Disposable {
  /** The binding in force (a file and a type), if any. */
  bound: BindingRef | undefined;
  private fileWatcher: vscode.FileSystemWatcher | undefined;
  private rebindTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly docWatch: vscode.Disposable;
  private disposed = false;

  constructor(private readonly host: BinderHost) {
    this.docWatch = vscode.workspace.onDidChangeTextDocument((e) => {
      if (this.bound && e.document.uri.toString() === this.bound.file.toString()) this.schedule();
    });
  }

  /** Binds the schema this object should have (by hand, setting, or `segment … for`), if any. */
  async autoBind(): Promise<void> {
    try {
      const ref = await findBinding(this.host.workspaceState, this.host.identity, this.host.target, (l) => this.host.log.warn(l), this.host.head?.());
      if (ref) await this.bindTo(ref);
      else if (this.bound && this.bound.how !== 'bound by hand') await this.bindTo(undefined);
    } catch (e) {
      this.host.log.warn(`inspector ${this.host.target}: finding a schema: ${(e as Error).message}`);
    }
  }

  /** Binds a schema file (and type), watching it for edits; undefined unbinds. */
  async bindTo(ref: BindingRef | undefined): Promise<void> {
    this.fileWatcher?.dispose();
    this.fileWatcher = undefined;
    this.bound = ref;
    if (!ref) {
      this.host.apply(undefined);
      this.host.log.info(`inspector ${this.host.target}: schema unbound`);
      return;
    }
    if (ref.file.scheme === 'file') {
      const dir = vscode.Uri.joinPath(ref.file, '..');
      const name = ref.file.path.split('/').pop() ?? '';
      this.fileWatcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(dir, name));
      this.fileWatcher.onDidChange(() => this.schedule());
      this.fileWatcher.onDidCreate(() => this.schedule());
      this.fileWatcher.onDidDelete(() => this.schedule());
    }
    await this.rebind();
  }

  /** Binds by hand and remembers it for this object in the workspace. */
  async bindByHand(ref: { file: vscode.Uri; type?: string } | undefined): Promise<void> {
    if (this.host.identity) await rememberBinding(this.host.workspaceState, this.host.identity, ref);
    if (ref) return this.bindTo({ ...ref, how: 'bound by hand' });
    // Unbinding by hand falls back to what the setting or a `segment … for` says, if anything.
    await this.bindTo(undefined);
    await this.autoBind();
  }

  private schedule(): void {
    if (this.rebindTimer) clearTimeout(this.rebindTimer);
    this.rebindTimer = setTimeout(() => {
      this.rebindTimer = undefined;
      void this.rebind();
    }, REBIND_DEBOUNCE_MS);
  }

  /** Re-reads and re-compiles the bound schema; the tree keeps what the user expanded. */
  private async rebind(): Promise<void> {
    const ref = this.bound;
    if (!ref || this.disposed) return;
    try {
      const b = await loadBinding(ref);
      if (this.bound !== ref || this.disposed) return;
      this.host.apply(b);
      this.host.log.info(`inspector ${this.host.target}: schema ${b.label} bound (${b.how})`);
    } catch (e) {
      if (this.bound !== ref || this.disposed) return;
      const msg = (e as Error).message;
      this.host.log.warn(`inspector ${this.host.target}: ${msg}`);
      this.host.problem(ref.file.path.split('/').pop(), ref.how, msg);
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.rebindTimer) clearTimeout(this.rebindTimer);
    this.fileWatcher?.dispose();
    this.docWatch.dispose();
  }
}
