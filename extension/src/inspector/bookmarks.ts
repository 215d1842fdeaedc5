// An object's bookmarks: named, coloured byte ranges kept in the editor's global state per object
// (by key, id or name for live objects, by target otherwise), and the prompt that adds one.
import * as vscode from 'vscode';
import { ask } from '../platform/prompt';
import { BOOKMARK_COLORS, type Bookmark } from '../shared/protocol';

const BOOKMARKS_KEY = 'shmscope.bookmarks';

export class BookmarkStore {
  constructor(
    private readonly state: vscode.Memento,
    /** Which object's list this is. */
    private readonly key: string,
    /** Told the new list after every change. */
    private readonly changed: (items: Bookmark[]) => void,
  ) {}

  /** The stored list, without entries that are not well-formed (the state is untrusted). */
  list(): Bookmark[] {
    const all = this.state.get<Record<string, Bookmark[]>>(BOOKMARKS_KEY) ?? {};
    const list = all[this.key];
    return Array.isArray(list) ? list.filter((b) => typeof b?.name === 'string' && Number.isSafeInteger(b.offset) && Number.isSafeInteger(b.length) && BOOKMARK_COLORS.includes(b.color)) : [];
  }

  private async save(list: Bookmark[]): Promise<void> {
    const all = { ...(this.state.get<Record<string, Bookmark[]>>(BOOKMARKS_KEY) ?? {}) };
    if (list.length) all[this.key] = list;
    else delete all[this.key];
    await this.state.update(BOOKMARKS_KEY, all);
    this.changed(list);
  }

  /** Adds a bookmark, clamped to an object of `size` bytes. */
  async add(b: Bookmark, size: number): Promise<Bookmark> {
    const max = Math.max(1, size);
    const offset = Math.min(Math.max(0, Math.floor(b.offset)), max - 1);
    const length = Math.max(1, Math.min(Math.floor(b.length), max - offset));
    const added = { name: b.name.slice(0, 200), offset, length, color: b.color };
    await this.save([...this.list(), added]);
    return added;
  }

  async remove(index: number, name: string): Promise<void> {
    const list = this.list();
    if (list[index]?.name !== name) throw Object.assign(new Error(`no bookmark "${name}" to remove`), { code: 'ENOENT' });
    list.splice(index, 1);
    await this.save(list);
  }
}

/** Asks for a name (suggesting `suggested`) and a colour; undefined when dismissed. */
export async function askBookmark(sel: { offset: number; length: number }, suggested: string): Promise<Bookmark | undefined> {
  const name = await ask({
    title: `Bookmark ${sel.length} byte${sel.length === 1 ? '' : 's'} at 0x${sel.offset.toString(16)}`,
    prompt: 'A name for the bookmark',
    value: suggested,
    parse: (v) => (v.trim() === '' || v.length > 200 ? undefined : v.trim()),
    invalid: (v) => (v.trim() === '' ? 'Give the bookmark a name' : 'At most 200 characters'),
  });
  if (name === undefined) return undefined;
  const pick = await vscode.window.showQuickPick(
    BOOKMARK_COLORS.map((c) => ({ label: `$(circle-large-filled) ${c}`, color: c })),
    // The second step of a two-step prompt: when the first closes, the webview takes the focus
    // back, which would close a pick that gives way to focus loss before the user saw it.
    { title: `Colour of "${name}"`, placeHolder: 'The colour marks its bytes on the grid', ignoreFocusOut: true },
  );
  if (!pick) return undefined;
  return { name, offset: sel.offset, length: Math.max(1, sel.length), color: pick.color };
}
