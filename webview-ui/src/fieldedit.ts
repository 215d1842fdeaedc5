// Typed editing of a structure row's value (read-write tabs): an input in the value cell, sent to
// the host as text on Enter (it parses, range-checks and writes it in the field's width and byte
// order), Escape or leaving the box to cancel; a refused value stays in the box, marked.
import { PageRequests, type TreeRow } from '../../extension/src/shared/protocol';
import { el } from './dom';
import type { StructureDeps } from './structure';
import { why } from './toolbar';

/** What the editor needs of its tree. */
export interface EditorHost {
  tree: HTMLElement;
  /** The value cell of the row shown for `id`, if it is on screen. */
  valueCell(id: string): HTMLSpanElement | undefined;
  render(): void;
  refresh(): void;
}

export class FieldEditor {
  /** The row being edited, if any (the tree leaves that cell alone while it repaints). */
  editing: { id: string; path: string; input: HTMLInputElement } | undefined;

  constructor(private readonly deps: StructureDeps, private readonly host: EditorHost) {}

  begin(r: TreeRow): void {
    if (!r.editable) return this.deps.message(`${r.path} is ${r.expandable ? 'a container: edit its members' : 'not a value that can be edited'}`, true);
    if (this.deps.readOnly()) return this.deps.message('This tab is read-only: use "Open Read-Write…" to edit field values.', true);
    const cell = this.host.valueCell(r.id);
    if (!cell) return;
    const input = el('input', { type: 'text', class: 'tedit', id: 'field-edit', 'aria-label': `New value of ${r.path} (${r.type})`, spellcheck: 'false' });
    // The display round-trips through the engine's encoder (enum names, times, quoted text);
    // an offset shows where it points, not what it stores, so it starts empty.
    input.value = r.kind === 'offset' || r.value.endsWith('…') ? '' : r.value;
    this.editing = { id: r.id, path: r.path, input };
    cell.replaceChildren(input);
    input.focus();
    input.select();
    const end = (commit: boolean) => {
      if (!this.editing || this.editing.input !== input) return;
      if (!commit) {
        this.editing = undefined;
        this.host.render();
        this.host.tree.focus();
        return;
      }
      const text = input.value;
      this.deps.ch.request(PageRequests.setField, { id: r.id, path: r.path, text }).then(() => {
        this.deps.message(`set ${r.path} = ${text}`);
        this.editing = undefined;
        this.host.tree.focus();
        this.deps.refreshBytes();
        this.host.refresh();
      }, (e: unknown) => {
        input.classList.add('error');
        input.title = why(e);
        this.deps.message(why(e), true);
        input.focus();
      });
    };
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') end(true);
      else if (e.key === 'Escape') end(false);
    });
    input.addEventListener('blur', () => {
      if (this.editing?.input === input && !input.classList.contains('error')) end(false);
    });
  }
}
