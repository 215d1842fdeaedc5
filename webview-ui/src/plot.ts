// The Watch plot page: fields of a recording (or of a live inspector) over time, drawn by uPlot
// on a canvas in the theme's chart colours, with a cursor that follows the replay's timeline.
// Clicking the plot moves the timeline there. Self-contained: it talks only the plot messages of
// the protocol module, and builds its DOM without markup.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { FromPlot, PlotInitMessage, ToPlot } from '../../extension/src/shared/protocol';
import { el } from './dom';
import './plot.css';

declare function acquireVsCodeApi(): { postMessage(m: FromPlot): void };
const vscode = acquireVsCodeApi();

const title = el('div', { class: 'plot-title', id: 'plot-title' });
const host = el('div', { class: 'plot-host', id: 'plot', role: 'img' });
const note = el('div', { class: 'plot-note', id: 'plot-note', 'aria-live': 'polite' });
document.body.append(title, host, note);

/** A theme colour (`--vscode-*`), resolved now: canvas strokes need concrete values. */
function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(`--vscode-${name}`).trim();
  return v || getComputedStyle(document.body).getPropertyValue(`--vscode-${name}`).trim() || fallback;
}
const CHART = ['charts-blue', 'charts-orange', 'charts-green', 'charts-purple', 'charts-red', 'charts-yellow', 'charts-foreground', 'charts-lines'];

let plot: uPlot | undefined;
let init: PlotInitMessage | undefined;
let xs: number[] = [];
let ys: (number | null)[][] = [];
let labels: Record<number, string>[] = [];
let cursorT: number | undefined;

/** Draws the timeline's cursor as a vertical line over the plot. */
const cursorPlugin: uPlot.Plugin = {
  hooks: {
    draw: [
      (u) => {
        if (cursorT === undefined) return;
        const x = u.valToPos(cursorT, 'x', true);
        if (!Number.isFinite(x)) return;
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = themeColor('editorCursor-foreground', themeColor('foreground', '#888'));
        ctx.lineWidth = 2 * uPlot.pxRatio;
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.restore();
        document.body.dataset.cursorX = String(Math.round(x / uPlot.pxRatio));
      },
    ],
  },
};

/** The canvas's height: the host's, less the legend uPlot puts under it. */
function plotHeight(): number {
  const legend = host.querySelector('.u-legend')?.getBoundingClientRect().height ?? 40;
  return Math.max(120, host.clientHeight - legend - 8);
}

const measure = document.createElement('canvas').getContext('2d');

/** The y axis as wide as its widest label (uPlot's fixed 50 px cut "13,000" to "3,000"). */
function axisWidth(font: string): uPlot.Axis.Size {
  return (_u, values) => {
    if (!measure) return 60;
    measure.font = font;
    const widest = Math.max(0, ...(values ?? []).map((v) => measure.measureText(String(v)).width));
    return Math.ceil(widest) + 18; // the tick and the gap beside it
  };
}

function build(): void {
  if (!init) return;
  plot?.destroy();
  const fg = themeColor('foreground', '#ccc');
  const grid = themeColor('editorWidget-border', themeColor('panel-border', '#444'));
  const font = `12px ${getComputedStyle(document.body).fontFamily || 'sans-serif'}`;
  const single = init.columns.length === 1 ? 0 : undefined;
  const axis: uPlot.Axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font };
  const colour = (i: number) => themeColor(CHART[i % CHART.length]!, '#4a9');
  // Two to four series: each on its own y axis (a counter and a flag share no range), in its
  // colour, alternating left and right; more share one axis.
  const perSeries = init.columns.length > 1 && init.columns.length <= 4;
  const named = (i: number) => (_u: uPlot, splits: number[]) => splits.map((v) => labels[i]?.[v] ?? v.toLocaleString('en-US'));
  const yAxes: uPlot.Axis[] = perSeries
    ? init.columns.map((_c, i) => ({ ...axis, scale: `y${i}`, side: i % 2 ? 1 : 3, stroke: colour(i), grid: { show: i === 0, stroke: grid, width: 1 }, size: axisWidth(font), values: named(i) }))
    : [{
      ...axis,
      size: axisWidth(font),
      // An enum field alone on a plot: its names on the axis instead of numbers.
      ...(single !== undefined ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => labels[0]?.[v] ?? String(v)) } : {}),
    }];
  const opts: uPlot.Options = {
    width: Math.max(200, host.clientWidth),
    height: plotHeight(),
    plugins: [cursorPlugin],
    scales: { x: { time: false } },
    legend: { show: true },
    // Drag across the plot to zoom into that time; a double click shows it all again.
    cursor: { drag: { x: true, y: false, setScale: true } },
    axes: [{ ...axis, label: 'seconds', labelFont: font }, ...yAxes],
    series: [
      { label: 't (s)' },
      ...init.columns.map((c, i) => ({
        label: c.path,
        ...(perSeries ? { scale: `y${i}` } : {}),
        stroke: colour(i),
        width: 1.5,
        points: { show: false },
        spanGaps: false,
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : labels[i]?.[v] ?? String(v)),
      })),
    ],
  };
  plot = new uPlot(opts, [xs, ...ys] as uPlot.AlignedData, host);
  host.setAttribute('aria-label', `${init.title}: ${init.columns.map((c) => c.path).join(', ')} over time`);
  let down = 0;
  plot.over.addEventListener('mousedown', (e) => { down = e.clientX; });
  plot.over.addEventListener('click', (e) => {
    // The end of a zooming drag is no click on a time.
    if (!plot || Math.abs(e.clientX - down) > 3) return;
    const t = plot.posToVal(e.offsetX, 'x');
    if (Number.isFinite(t)) vscode.postMessage({ type: 'plotSeek', t });
  });
}

function redraw(): void {
  if (!plot) return;
  plot.setData([xs, ...ys] as uPlot.AlignedData, true);
  document.body.dataset.points = String(xs.length);
  document.body.dataset.renderedAt = String(Date.now());
}

function onMessage(m: ToPlot): void {
  switch (m.type) {
    case 'plotInit':
      init = m;
      title.textContent = m.title;
      xs = [];
      ys = m.columns.map(() => []);
      labels = m.columns.map((c) => ({ ...(c.labels ?? {}) }));
      build();
      redraw();
      return;
    case 'plotData': {
      if (!init) return;
      if (!m.append) {
        xs = [];
        ys = init.columns.map(() => []);
      }
      xs.push(...m.t);
      m.values.forEach((col, i) => ys[i]?.push(...col));
      m.labels?.forEach((l, i) => l && Object.assign(labels[i] ??= {}, l));
      if (init.live && init.windowSeconds && xs.length) {
        const from = xs[xs.length - 1]! - init.windowSeconds;
        let cut = 0;
        while (cut < xs.length && xs[cut]! < from) cut++;
        if (cut) {
          xs.splice(0, cut);
          for (const y of ys) y.splice(0, cut);
        }
      }
      note.textContent = `${xs.length} point${xs.length === 1 ? '' : 's'}${init.live ? ` (the last ${init.windowSeconds} s)` : ''}`;
      redraw();
      return;
    }
    case 'plotCursor':
      cursorT = m.t;
      document.body.dataset.cursorT = String(m.t);
      plot?.redraw(false);
      return;
  }
}

window.addEventListener('message', (e: MessageEvent<ToPlot>) => onMessage(e.data));
new ResizeObserver(() => plot?.setSize({ width: Math.max(200, host.clientWidth), height: plotHeight() })).observe(host);
vscode.postMessage({ type: 'plotReady' });
