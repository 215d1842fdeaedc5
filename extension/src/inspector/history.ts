// Undo and redo of an inspector's writes: each write keeps the bytes it replaced, so undo writes
// them back and redo writes the new ones again. No vscode import.

interface Edit {
  offset: number;
  before: Uint8Array;
  after: Uint8Array;
}

/** Where the history writes (the session's source). */
export interface Writable {
  read(offset: number, length: number): Uint8Array;
  write(offset: number, bytes: Uint8Array): void;
}

const MAX_UNDO = 1000;

export class EditHistory {
  private readonly undoStack: Edit[] = [];
  private readonly redoStack: Edit[] = [];

  /** Writes `bytes` at `offset`, remembering what they replace. */
  write(target: Writable, offset: number, bytes: Uint8Array): void {
    const before = target.read(offset, bytes.length).slice();
    const after = bytes.slice();
    target.write(offset, after);
    this.undoStack.push({ offset, before, after });
    if (this.undoStack.length > MAX_UNDO) this.undoStack.shift();
    this.redoStack.length = 0;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Restores the bytes of the last write; false when there is none. */
  undo(target: Writable): boolean {
    return this.replay(target, this.undoStack, this.redoStack, 'before');
  }

  redo(target: Writable): boolean {
    return this.replay(target, this.redoStack, this.undoStack, 'after');
  }

  /** Moves the newest edit of `from` to `to`, writing its `side` bytes back. */
  private replay(target: Writable, from: Edit[], to: Edit[], side: 'before' | 'after'): boolean {
    const e = from.pop();
    if (!e) return false;
    target.write(e.offset, e[side]);
    to.push(e);
    return true;
  }
}
