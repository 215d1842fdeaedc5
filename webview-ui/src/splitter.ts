// The splitter between the grid and the side panel: drag it, or use the arrows when it has focus.
// The width is kept in the tab's webview state, so it survives the tab being hidden and shown.
import { el } from './dom';

export interface TabState {
  getState(): unknown;
  setState(s: unknown): void;
}

export function splitter(main: HTMLElement, side: HTMLElement, tab: TabState): HTMLElement {
  const bar = el('div', { class: 'splitter', id: 'splitter', role: 'separator', 'aria-orientation': 'vertical', 'aria-label': 'Width of the side panel (Left and Right arrows)', tabindex: '0' });
  const setWidth = (px: number) => {
    const max = Math.max(200, main.clientWidth - 320);
    const w = Math.round(Math.max(200, Math.min(max, px)));
    side.style.width = `${w}px`;
    bar.setAttribute('aria-valuenow', String(w));
    tab.setState({ ...(tab.getState() as object | undefined), sideWidth: w });
  };
  const saved = (tab.getState() as { sideWidth?: unknown } | undefined)?.sideWidth;
  if (typeof saved === 'number' && Number.isFinite(saved)) side.style.width = `${saved}px`;
  bar.addEventListener('pointerdown', (e) => {
    bar.setPointerCapture(e.pointerId);
    const move = (m: PointerEvent) => setWidth(main.getBoundingClientRect().right - m.clientX);
    const up = () => {
      bar.removeEventListener('pointermove', move);
      bar.removeEventListener('pointerup', up);
    };
    bar.addEventListener('pointermove', move);
    bar.addEventListener('pointerup', up);
    e.preventDefault();
  });
  bar.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault();
    setWidth(side.getBoundingClientRect().width + (e.key === 'ArrowLeft' ? 24 : -24));
  });
  return bar;
}
