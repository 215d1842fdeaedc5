// Replay: a `.shmrec` opens read-only in the inspector (a custom editor), showing the frame under
// the timeline's cursor through the same grid, change highlight, structure view and checks as live
// data. The timeline is the status bar item and the Replay commands (play/pause, speed, step, go
// to, next change of the selection, next failing check), with keys and editor title buttons.
import * as vscode from 'vscode';
import type { Log } from '../platform/log';
import { ask } from '../platform/prompt';
import { openRecordingAsync, type RecordingFile } from '../record';
import { FrameDecoder, parsePosition, timelineLabel, type Frame, type Recording } from '../shared/record';
import { HostNotes, type TimelineOpParams } from '../shared/protocol';
import { InspectorPanel } from './panel';
import type { InspectorSource } from './session';

export const REPLAY_VIEW_TYPE = 'shmscope.recording';
const SPEEDS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 64] as const;
/** Playback redraws at most this often; faster speeds skip frames. */
const PLAY_TICK_MS = 33;
/** Frames a search decodes between two yields to the event loop. */
const SEARCH_CHUNK = 200;

/** The bytes of the frame under the cursor, as an inspector source (read-only). */
class FrameSource implements InspectorSource {
  readonly readOnly = true;
  bytes: Uint8Array;
  constructor(private readonly recording: Recording, frame: Frame) {
    this.bytes = recording.objectBytes(frame).slice();
  }
  show(frame: Frame) {
    this.bytes = this.recording.objectBytes(frame).slice();
  }
  get size(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    const start = Math.max(0, Math.min(offset, this.bytes.length));
    return this.bytes.subarray(start, Math.min(this.bytes.length, start + Math.max(0, length)));
  }
  write(): void {
    throw Object.assign(new Error('a recording is read-only'), { code: 'EROFS' });
  }
  close(): void {}
}

class RecordingDocument implements vscode.CustomDocument {
  constructor(
    readonly uri: vscode.Uri,
    readonly recording: Recording,
    private readonly file: RecordingFile,
  ) {}
  dispose(): void {
    this.file.close();
  }
}

/** Registers a command whose failures are shown and logged (the inspector's `command`). */
export type Registrar = <A extends unknown[], R>(id: string, what: string, body: (...args: A) => Promise<R> | R) => vscode.Disposable;

/** What a timeline change tells its listeners (the Watch plots follow it). */
export interface TimelineEvent {
  frame: number;
  timeMs: number;
}

/** One open recording: its inspector panel and the timeline's cursor. */
export class Replay {
  private static readonly open = new Set<Replay>();
  private static last: Replay | undefined;
  index = 0;
  playing = false;
  speed = 1;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The tab closed: nothing may touch its webview any more. */
  private closed = false;
  private readonly changed = new vscode.EventEmitter<TimelineEvent>();
  /** Fires after the cursor moved (seek, step, play). */
  readonly onDidMove = this.changed.event;
  /** The schema the recording carries (what the tab binds when it opens). */
  private readonly carried: FrameDecoder;
  private byHand: FrameDecoder | undefined;
  private readonly source: FrameSource;
  readonly panel: InspectorPanel;

  static active(): Replay | undefined {
    for (const r of Replay.open) if (r.panel.panel.active) return r;
    return Replay.last && Replay.open.has(Replay.last) ? Replay.last : undefined;
  }

  constructor(
    context: vscode.ExtensionContext,
    private readonly log: Log,
    readonly doc: RecordingDocument,
    webviewPanel: vscode.WebviewPanel,
    private readonly status: vscode.StatusBarItem,
  ) {
    const rec = doc.recording;
    this.carried = new FrameDecoder(rec);
    this.source = new FrameSource(rec, rec.seek(0));
    const name = doc.uri.path.split('/').pop() ?? 'recording';
    const h = rec.header;
    this.panel = InspectorPanel.attach(context, webviewPanel, {
      key: `recording:${doc.uri.toString()}`,
      target: `recording:${doc.uri.fsPath}`,
      title: `${name} (${h.title}, ${h.start})`,
      source: this.source,
      live: false,
      timeline: (m) => void this.onTimeline(m),
    });
    void this.panel.session.whenReady().then(() => this.render());
    if (this.carried.schema && this.carried.type) {
      const file = h.schema!.file.split('/').pop();
      this.panel.session.bind({ schema: this.carried.schema, type: this.carried.type.name, label: `${file} · ${this.carried.type.name}`, how: 'carried by the recording' });
    }
    Replay.open.add(this);
    Replay.last = this;
    webviewPanel.onDidChangeViewState(() => {
      if (webviewPanel.active) Replay.last = this;
      this.render();
    });
    webviewPanel.onDidDispose(() => this.dispose());
    log.info(`replay: opened ${doc.uri.fsPath}: ${rec.frameCount} frames over ${(rec.durationMs / 1000).toFixed(1)} s${rec.partialTail ? ` (${rec.partialTail} bytes of a cut-short last frame ignored)` : ''}`);
    this.render();
  }

  /** Decodes frames through the schema the tab shows: the recording's own, or one bound by hand since. */
  get decoder(): FrameDecoder {
    const b = this.panel.session.schema;
    if (!b || b.schema === this.carried.schema) return this.carried;
    if (this.byHand?.schema !== b.schema) this.byHand = new FrameDecoder(this.recording, { schema: b.schema, ...(b.type ? { type: b.type } : {}) });
    return this.byHand;
  }

  get recording(): Recording {
    return this.doc.recording;
  }

  /** Moves the cursor to frame `index` (clamped); the page re-reads, the plots follow. */
  seek(index: number): void {
    const i = Math.max(0, Math.min(this.recording.frameCount - 1, Math.round(index)));
    const f = this.recording.seek(i);
    this.index = i;
    this.source.show(f);
    this.panel.session.sourceChanged();
    this.changed.fire({ frame: i, timeMs: f.timeMs });
    this.render();
  }

  step(delta: number): void {
    this.pause();
    this.seek(this.index + delta);
  }

  play(): void {
    if (this.playing) return;
    if (this.index >= this.recording.frameCount - 1) this.seek(0);
    this.playing = true;
    const wall0 = performance.now();
    const rec0 = this.recording.times[this.index]!;
    const tick = () => {
      if (!this.playing) return;
      const target = this.recording.frameAt(rec0 + (performance.now() - wall0) * this.speed);
      if (target !== this.index) this.seek(target);
      if (this.index >= this.recording.frameCount - 1) {
        this.pause();
        return;
      }
      const next = this.recording.times[this.index + 1]!;
      const wait = (next - rec0) / this.speed - (performance.now() - wall0);
      this.timer = setTimeout(tick, Math.max(PLAY_TICK_MS, wait));
    };
    tick();
    this.render();
  }

  pause(): void {
    this.playing = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.render();
  }

  setSpeed(speed: number): void {
    const wasPlaying = this.playing;
    this.pause();
    this.speed = speed;
    if (wasPlaying) this.play();
    this.render();
  }

  /** The bytes the page has selected (a field selected in the tree selects its bytes). */
  private selection(): { offset: number; length: number } {
    const s = this.panel.session.state?.selection;
    return s && s.length > 0 ? s : { offset: this.panel.session.state?.cursor ?? 0, length: 1 };
  }

  /**
   * The next (or previous) frame that `test` accepts, decoding in chunks so the editor stays
   * responsive, with progress and Cancel. Undefined when none or cancelled.
   */
  private async search(title: string, direction: 1 | -1, test: (i: number) => boolean, where: 'window' | 'notification'): Promise<number | undefined> {
    this.pause();
    const from = this.index;
    const n = this.recording.frameCount;
    // Comparing bytes is quick (the status bar says it is busy); decoding every frame may take a
    // while on a long recording, so that search is a notification with Cancel.
    const location = where === 'window' ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification;
    return vscode.window.withProgress({ location, title, cancellable: where === 'notification' }, async (progress, token) => {
      let done = 0;
      for (let i = from + direction; i >= 0 && i < n; i += direction) {
        if (test(i)) return i;
        if (++done % SEARCH_CHUNK === 0) {
          if (token.isCancellationRequested) return undefined;
          progress.report({ message: `frame ${i}` });
          await new Promise<void>((r) => setImmediate(r));
        }
      }
      return undefined;
    });
  }

  /** Moves to the next frame where the selected bytes differ from this frame's. */
  async nextChange(direction: 1 | -1): Promise<number | undefined> {
    const { offset, length } = this.selection();
    const now = this.source.bytes.slice(offset, offset + length);
    const rec = this.recording;
    const found = await this.search('Replay: looking for a change', direction, (i) => {
      const b = rec.objectBytes(rec.seek(i));
      for (let k = 0; k < now.length; k++) if (b[offset + k] !== now[k]) return true;
      return false;
    }, 'window');
    this.afterSearch(found, `no ${direction > 0 ? 'later' : 'earlier'} frame changes the ${length} byte${length === 1 ? '' : 's'} at 0x${offset.toString(16)}`);
    return found;
  }

  /** Moves to the next frame that is torn or where a check fails. */
  async nextFailure(direction: 1 | -1): Promise<number | undefined> {
    if (!this.decoder.schema) {
      const found = await this.search('Replay: looking for a torn frame', direction, (i) => this.recording.isTorn(i), 'window');
      this.afterSearch(found, 'the recording carries no schema: no checks to look at, and no torn frame');
      return found;
    }
    const found = await this.search('Replay: looking for a failing check', direction, (i) => {
      const d = this.decoder.decode(i);
      return d.frame.torn || d.checks.some((c) => c.ok === false);
    }, 'notification');
    this.afterSearch(found, `no ${direction > 0 ? 'later' : 'earlier'} frame has a failing check`);
    return found;
  }

  private afterSearch(found: number | undefined, none: string) {
    // A search moves the reader's own cursor: put the frame shown back, or show the one found.
    if (found === undefined) {
      this.recording.seek(this.index);
      void vscode.window.showInformationMessage(`Replay: ${none}.`);
      return;
    }
    this.seek(found);
  }

  /** What the page's timeline bar asks. */
  private async onTimeline(m: TimelineOpParams): Promise<void> {
    try {
      switch (m.op) {
        case 'seek':
          this.pause();
          return this.seek(m.frame ?? this.index);
        case 'step':
          return this.step(m.delta ?? 1);
        case 'play':
          return this.play();
        case 'pause':
          return this.pause();
        case 'nextChange':
          return void (await this.nextChange(1));
        case 'previousChange':
          return void (await this.nextChange(-1));
        case 'nextFailure':
          return void (await this.nextFailure(1));
        case 'previousFailure':
          return void (await this.nextFailure(-1));
      }
    } catch (e) {
      this.log.error(`replay ${this.doc.uri.fsPath}: ${(e as Error).message}`);
      void vscode.window.showErrorMessage((e as Error).message);
    }
  }

  /** The timeline in the page's bar and in the status bar (while this replay is the active editor). */
  render(): void {
    // A closed tab's webview is gone: touching it throws "Webview is disposed".
    if (this.closed) return;
    const rec0 = this.recording;
    if (this.panel?.session.ready) {
      this.panel.notify(HostNotes.timeline, { frame: this.index, frames: rec0.frameCount, timeMs: rec0.times[this.index]!, durationMs: rec0.durationMs, playing: this.playing, speed: this.speed, torn: rec0.isTorn(this.index) });
    }
    if (Replay.active() !== this || !this.panel.panel.active) {
      if (![...Replay.open].some((r) => r.panel.panel.active)) this.status.hide();
      return;
    }
    const rec = this.recording;
    this.status.text = `$(${this.playing ? 'debug-pause' : 'play'}) ${timelineLabel({ frame: this.index, frames: rec.frameCount, timeMs: rec.times[this.index]!, durationMs: rec.durationMs, speed: this.speed, torn: rec.isTorn(this.index) })}`;
    this.status.tooltip = `Replay of ${rec.header.title} recorded on ${rec.header.host} from ${rec.header.start}. Click to ${this.playing ? 'pause' : 'play'}; Alt+Left/Right steps, Alt+PageUp/PageDown finds a change of the selection, F8 (Alt) a failing check.`;
    this.status.command = 'shmscope.replay.playPause';
    this.status.show();
  }

  /** What the timeline shows, for tests. */
  state() {
    const f = this.recording;
    return { frame: this.index, frames: f.frameCount, timeMs: f.times[this.index]!, playing: this.playing, speed: this.speed, torn: f.isTorn(this.index), target: this.panel.options.target };
  }

  dispose(): void {
    this.closed = true;
    this.pause();
    Replay.open.delete(this);
    if (Replay.last === this) Replay.last = undefined;
    this.changed.dispose();
    if (![...Replay.open].some((r) => r.panel.panel.active)) this.status.hide();
  }
}

function need(): Replay {
  const r = Replay.active();
  if (!r) throw new Error('Open a recording (.shmrec) first.');
  return r;
}

/** Registers the `.shmrec` editor and the Replay commands. */
export function activateReplay(context: vscode.ExtensionContext, log: Log, command: Registrar): void {
  const status = vscode.window.createStatusBarItem('shmscope.replay', vscode.StatusBarAlignment.Left, 90);
  status.name = 'Shared Memory Replay';
  const provider: vscode.CustomReadonlyEditorProvider<RecordingDocument> = {
    async openCustomDocument(uri, _context, token) {
      // Not synchronous: indexing a big recording must leave the extension host answering.
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      const started = Date.now();
      let opened: Awaited<ReturnType<typeof openRecordingAsync>>;
      try {
        opened = await openRecordingAsync(uri.fsPath, abort.signal);
      } finally {
        sub.dispose();
      }
      const { recording, file } = opened;
      log.info(`replay: indexed ${uri.fsPath} in ${Date.now() - started} ms`);
      if (recording.framesLeftOut) log.warn(`replay ${uri.fsPath}: more than ${recording.frameCount} frames; only the first ${recording.frameCount} are shown`);
      if (recording.frameCount === 0) {
        file.close();
        throw new Error(`${uri.fsPath} holds no whole frame yet (is it still being recorded?)`);
      }
      return new RecordingDocument(uri, recording, file);
    },
    resolveCustomEditor(doc, panel) {
      new Replay(context, log, doc, panel, status);
    },
  };
  context.subscriptions.push(
    status,
    vscode.window.registerCustomEditorProvider(REPLAY_VIEW_TYPE, provider, { webviewOptions: { retainContextWhenHidden: true }, supportsMultipleEditorsPerDocument: false }),
    command('shmscope.replay.playPause', 'Replay: Play/Pause', () => {
      const r = need();
      if (r.playing) r.pause();
      else r.play();
      return r.state();
    }),
    command('shmscope.replay.stepForward', 'Replay: Step Forward', (n?: number) => (need().step(typeof n === 'number' ? n : 1), need().state())),
    command('shmscope.replay.stepBack', 'Replay: Step Back', (n?: number) => (need().step(-(typeof n === 'number' ? n : 1)), need().state())),
    command('shmscope.replay.nextChange', 'Replay: Next Change of the Selection', async () => (await need().nextChange(1), need().state())),
    command('shmscope.replay.previousChange', 'Replay: Previous Change of the Selection', async () => (await need().nextChange(-1), need().state())),
    command('shmscope.replay.nextFailure', 'Replay: Next Failing Check', async () => (await need().nextFailure(1), need().state())),
    command('shmscope.replay.previousFailure', 'Replay: Previous Failing Check', async () => (await need().nextFailure(-1), need().state())),
    command('shmscope.replay.speed', 'Replay: Speed', async (speed?: number) => {
      const r = need();
      let s = speed;
      if (typeof s !== 'number') {
        const pick = await vscode.window.showQuickPick(SPEEDS.map((v) => ({ label: `${v}×`, description: v === r.speed ? 'now' : undefined, v })), { title: 'Replay speed' });
        s = pick?.v;
      }
      if (typeof s === 'number' && Number.isFinite(s) && s > 0 && s <= 1000) r.setSpeed(s);
      return r.state();
    }),
    command('shmscope.replay.goTo', 'Replay: Go to Frame or Time', async (position?: string) => {
      const r = need();
      /** The frame a text names, else the sentence why not. */
      const at = (v: string): number | string => {
        try {
          return parsePosition(r.recording, v);
        } catch (e) {
          return (e as Error).message;
        }
      };
      const index = typeof position === 'string' ? parsePosition(r.recording, position) : await ask({
        title: 'Replay: Go to Frame or Time',
        prompt: '#FRAME (from 0), a time since the start (500ms, 12.5s, 5m, 1m30s) or an ISO-8601 time',
        parse: (v) => { const i = at(v); return typeof i === 'number' ? i : undefined; },
        invalid: (v) => String(at(v)),
      });
      if (index === undefined) return undefined;
      r.pause();
      r.seek(index);
      return r.state();
    }),
    // For tests: what the timeline shows (never in the palette).
    command('shmscope.replay.state', 'Replay: State', () => Replay.active()?.state()),
  );
}
