// The Wait-for Graph page: threads and objects as boxes, "waits on" and "held by" as arrows,
// deadlock cycles in the error colour. Laid out by dagre (a layered layout, no hand-made
// positions), drawn as SVG built node by node (no markup from data), under the page's CSP.
/* eslint-disable @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call -- @dagrejs/dagre's layout results reach lint untyped; they are read as numbers and points */
import dagre from '@dagrejs/dagre';
import { validateGraphMessage, type GraphPageMessage, type WaitGraph } from '../../extension/src/shared/waitgraph';
import { el } from './dom';
import './graph.css';

declare function acquireVsCodeApi(): { postMessage(m: GraphPageMessage): void };
const vscode = acquireVsCodeApi();
const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

// Until the host's first report: the page's shell, saying what it waits for.
const summary = el('span', { id: 'summary', 'aria-live': 'polite' }, 'Scanning threads…');
const legend = el('span', { id: 'legend' }, 'solid arrow: waits on · dashed: held by · dotted: last changed by (a hint, semaphores have no owner) · dash-dot: reads or writes a pipe or socket whose other end that process holds · red: deadlock cycle or dead owner · click an object to open it, a thread to show its stack');
const stage = el('div', { id: 'stage', role: 'img', 'aria-label': 'wait-for graph' });

// Zoom: "fit" shrinks a wide graph to the page, but never below MIN_FIT (its text stays readable:
// the page scrolls instead); +/− (buttons, keys, Ctrl+wheel) zoom by steps, 0 fits again.
const MIN_FIT = 0.9;
let zoom: number | 'fit' = 'fit';
let natural = { w: 0, h: 0 };
const zoomLabel = el('span', { id: 'zoom-level' });
const zoomButton = (text: string, title: string, id: string, act: () => void) => {
  const b = el('button', { type: 'button', title, 'aria-label': title, id }, text);
  b.addEventListener('click', act);
  return b;
};
const scale = (): number => (zoom === 'fit' ? Math.min(1, Math.max(MIN_FIT, (stage.clientWidth - 4) / Math.max(1, natural.w))) : zoom);
function applyZoom(): void {
  const root = stage.querySelector('svg');
  const k = scale();
  zoomLabel.textContent = `${Math.round(k * 100)} %`;
  if (!root) return;
  root.setAttribute('width', String(Math.round(natural.w * k)));
  root.setAttribute('height', String(Math.round(natural.h * k)));
}
const step = (dir: number) => {
  zoom = Math.min(4, Math.max(0.25, Math.round((scale() * (dir > 0 ? 1.25 : 0.8)) * 100) / 100));
  applyZoom();
};
const fit = () => {
  zoom = 'fit';
  applyZoom();
};
const zoomBar = el('span', { id: 'zoom', role: 'group', 'aria-label': 'Zoom' },
  zoomButton('−', 'Zoom out (−)', 'zoom-out', () => step(-1)), zoomLabel, zoomButton('+', 'Zoom in (+)', 'zoom-in', () => step(1)), zoomButton('Fit', 'Fit to the page (0)', 'zoom-fit', fit));
document.body.append(el('header', {}, el('h1', {}, 'Wait-for Graph'), summary, zoomBar), legend, stage);
window.addEventListener('keydown', (e) => {
  if (e.key === '+' || e.key === '=') step(1);
  else if (e.key === '-') step(-1);
  else if (e.key === '0') fit();
});
stage.addEventListener('wheel', (e) => {
  if (!e.ctrlKey) return;
  e.preventDefault();
  step(e.deltaY < 0 ? 1 : -1);
}, { passive: false });
new ResizeObserver(() => { if (zoom === 'fit') applyZoom(); }).observe(stage);

// Text width without a layout pass: an estimate from the font size (boxes only need to fit).
const charWidth = 7.2;
const lineHeight = 16;

function draw(g: WaitGraph): void {
  summary.textContent = g.summary;
  stage.replaceChildren();
  stage.setAttribute('aria-label', `wait-for graph: ${g.summary}`);
  if (g.nodes.length === 0) {
    stage.append(el('div', { id: 'empty' }, 'No thread is blocked on a shared memory object, semaphore or queue.'));
    return;
  }
  const layout = new dagre.graphlib.Graph({ multigraph: true });
  layout.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 70, marginx: 8, marginy: 8 });
  layout.setDefaultEdgeLabel(() => ({}));
  const shown = (t: string) => (t.length > 48 ? `${t.slice(0, 47)}…` : t);
  for (const n of g.nodes) {
    const width = Math.max(shown(n.label).length, shown(n.detail).length) * charWidth + 20;
    layout.setNode(n.id, { width: Math.min(width, 420), height: lineHeight * 2 + 12 });
  }
  g.edges.forEach((e, i) => layout.setEdge(e.from, e.to, { label: e.label, width: e.label.length * 7, height: 16, labelpos: 'c' }, `e${i}`));
  dagre.layout(layout);
  const size = layout.graph();
  // The natural size; applyZoom scales it.
  const w = Math.ceil(size.width ?? 0) + 16;
  const h = Math.ceil(size.height ?? 0) + 16;
  natural = { w, h };
  const root = svg('svg', { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'presentation' });
  const defs = svg('defs');
  for (const cls of ['plain', 'cycle']) {
    defs.append(svg('marker', { id: `arrow-${cls}`, class: cls, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z' })));
  }
  root.append(defs);
  g.edges.forEach((e, i) => {
    const pos = layout.edge({ v: e.from, w: e.to, name: `e${i}` });
    if (!pos?.points?.length) return;
    const d = pos.points.map((p: { x: number; y: number }, j: number) => `${j ? 'L' : 'M'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
    const group = svg('g', { class: `edge ${e.kind}${e.inCycle ? ' cycle' : ''}` }, svg('path', { d, 'marker-end': `url(#arrow-${e.inCycle ? 'cycle' : 'plain'})` }));
    if (pos.x !== undefined && pos.y !== undefined) group.append(svg('text', { x: pos.x, y: pos.y, 'text-anchor': 'middle' }, e.label));
    root.append(group);
  });
  for (const n of g.nodes) {
    const pos = layout.node(n.id);
    if (!pos) continue;
    const x = pos.x - pos.width / 2;
    const y = pos.y - pos.height / 2;
    const open = n.kind === 'object' && n.target !== undefined;
    const group = svg('g', { class: `node ${n.kind} ${n.state}${open ? ' open' : ''}`, 'data-id': n.id, ...(open ? { tabindex: 0, role: 'button', 'aria-label': `open ${n.label} in the inspector` } : {}) },
      svg('rect', { x, y, width: pos.width, height: pos.height, rx: n.kind === 'thread' ? 10 : 2 }),
      svg('text', { x: x + 10, y: y + lineHeight + 2 }, shown(n.label)),
      svg('text', { x: x + 10, y: y + lineHeight * 2 + 4, class: 'detail' }, shown(n.detail)),
      svg('title', {}, `${n.label}\n${n.detail}${n.state !== 'ok' ? `\n${n.state}` : ''}`));
    if (n.kind === 'thread' && n.pid !== undefined && n.tid !== undefined && n.state !== 'dead') {
      // Show Holder's Stack: the thread's kernel and user stacks, read by the host.
      const stack = () => vscode.postMessage({ type: 'stack', pid: n.pid!, tid: n.tid! });
      group.setAttribute('tabindex', '0');
      group.setAttribute('role', 'button');
      group.setAttribute('aria-label', `show the stack of ${n.label}`);
      group.classList.add('open');
      group.addEventListener('click', stack);
      group.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') stack();
      });
    }
    if (open) {
      const go = () => vscode.postMessage({ type: 'open', target: n.target!, offset: n.offset ?? 0 });
      group.addEventListener('click', go);
      group.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') go();
      });
    }
    root.append(group);
  }
  stage.append(root);
  applyZoom();
}

window.addEventListener('message', (ev: MessageEvent) => {
  const m = validateGraphMessage(ev.data);
  if (m) draw(m.graph);
});
vscode.postMessage({ type: 'ready' });
