// Read-only text documents (semaphore details) under one scheme of our own.
import * as vscode from 'vscode';

/** Read-only text documents (peeked messages, semaphore details) under one scheme. */
export class TextProvider implements vscode.TextDocumentContentProvider {
  static readonly scheme = 'shmscope-text';
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }
  async show(name: string, text: string): Promise<vscode.TextEditor> {
    const uri = vscode.Uri.from({ scheme: TextProvider.scheme, path: `/${name}` });
    this.texts.set(uri.path, text);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    return vscode.window.showTextDocument(doc, { preview: true });
  }
}

