// A replay's timeline bar in the inspector page (a `.shmrec` tab only): play/pause, step, a
// slider to scrub (arrow keys move it frame by frame, Page Up/Down by tens, Home/End to the ends),
// next change of the selection and next failing check. The host owns the cursor: the bar sends
// what the user asks and shows what the host says (its `timeline` notes).
import type { TimelineOpParams, TimelineParams } from '../../extension/src/shared/protocol';
import { timelineLabel } from '../../extension/src/shared/record/timeline';
import { el } from './dom';

export class TimelineBar {
  readonly element: HTMLDivElement;
  private readonly play: HTMLButtonElement;
  private readonly slider: HTMLInputElement;
  private readonly label: HTMLSpanElement;
  private last: TimelineParams | undefined;

  constructor(private readonly post: (m: TimelineOpParams) => void) {
    const button = (text: string, title: string, onClick: () => void, id: string) => {
      const b = el('button', { type: 'button', title, 'aria-label': title, id }, text);
      b.addEventListener('click', onClick);
      return b;
    };
    this.play = button('▶', 'Play (Alt+Enter)', () => this.post({ op: this.last?.playing ? 'pause' : 'play' }), 'timeline-play');
    this.slider = el('input', { type: 'range', min: '0', max: '0', step: '1', value: '0', id: 'timeline-slider', 'aria-label': 'Frame of the recording' });
    this.slider.addEventListener('input', () => this.post({ op: 'seek', frame: Number(this.slider.value) }));
    this.label = el('span', { class: 'timeline-label', id: 'timeline-label', 'aria-live': 'off' });
    this.element = el('div', { class: 'bar timeline', id: 'timeline', role: 'toolbar', 'aria-label': 'Timeline', hidden: '' },
      button('◀✗', 'Previous failing check', () => this.post({ op: 'previousFailure' }), 'timeline-prev-failure'),
      button('|◀', 'Step back (Alt+Left)', () => this.post({ op: 'step', delta: -1 }), 'timeline-back'),
      this.play,
      button('▶|', 'Step forward (Alt+Right)', () => this.post({ op: 'step', delta: 1 }), 'timeline-forward'),
      this.slider,
      button('Δ', 'Next change of the selected bytes (Alt+PageDown)', () => this.post({ op: 'nextChange' }), 'timeline-next-change'),
      button('✗▶', 'Next failing check (Alt+F8)', () => this.post({ op: 'nextFailure' }), 'timeline-next-failure'),
      this.label,
    );
  }

  /** Shows where the host's cursor is. */
  update(m: TimelineParams): void {
    this.last = m;
    this.element.hidden = false;
    this.slider.max = String(Math.max(0, m.frames - 1));
    // Not while the user drags it: their value is on its way to the host.
    if (document.activeElement !== this.slider || !this.slider.matches(':active')) this.slider.value = String(m.frame);
    this.slider.setAttribute('aria-valuetext', timelineLabel(m));
    this.label.textContent = timelineLabel(m);
    this.play.textContent = m.playing ? '⏸' : '▶';
    this.play.title = m.playing ? 'Pause (Alt+Enter)' : 'Play (Alt+Enter)';
    this.play.setAttribute('aria-label', this.play.title);
    document.body.dataset.timelineFrame = String(m.frame);
  }
}
