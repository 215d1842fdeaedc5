// Small controls the page builds its bars from (through dom.ts's el: never innerHTML).
import { el } from './dom';

export function button(label: string, title: string, onClick: () => void, id?: string): HTMLButtonElement {
  const b = el('button', { type: 'button', title, 'aria-label': title, ...(id ? { id } : {}) }, label);
  b.addEventListener('click', onClick);
  return b;
}

export function select<T extends string>(label: string, options: [T, string][], id: string): HTMLSelectElement {
  const s = el('select', { 'aria-label': label, title: label, id });
  for (const [v, text] of options) s.append(el('option', { value: v }, text));
  return s;
}
