// Start Recording / Stop Recording in a live inspector: the object's bytes over time into a
// `.shmrec`, each frame under the bound schema's seqlock, with the semaphore set the settings or
// the segment's key name. A status bar item shows the elapsed time, size and frames (click to
// stop); the progress notification's Cancel stops it too. The frames taken always stay in the file.
import * as vscode from 'vscode';
import type { Log } from '../log';
import * as ipc from '../ipc';
import { readConfig, SECTION } from '../config';
import { semaphoresOf, startRecording, type LiveRecording } from '../record';
import { schemaText } from './binding';
import { InspectorPanel } from './panel';
import { REPLAY_VIEW_TYPE, type Registrar } from './replay';

interface Running {
  live: LiveRecording;
  file: string;
  panel: InspectorPanel;
}

const running = new Map<string, Running>();

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The semaphore target whose values ride along: the setting's, else the segment's own set. */
function semaphoresFor(p: InspectorPanel, target: ipc.Target): string | ipc.Target | undefined {
  const map = readConfig(vscode.workspace.getConfiguration(SECTION)).recordingSemaphores;
  const named = map[p.options.target] ?? (target.kind === 'shm' ? Object.entries(map).find(([k]) => {
    try {
      return ipc.formatTarget(ipc.parseTarget(k, 'shm')) === ipc.formatTarget(target);
    } catch {
      return false;
    }
  })?.[1] : undefined);
  if (named === '') return undefined;
  return named ?? semaphoresOf(target);
}

/** Registers Start Recording and Stop Recording. */
export function activateRecording(context: vscode.ExtensionContext, log: Log, command: Registrar): void {
  const status = vscode.window.createStatusBarItem('shmscope.recording', vscode.StatusBarAlignment.Left, 91);
  status.name = 'Shared Memory Recording';
  let ticker: ReturnType<typeof setInterval> | undefined;
  const render = () => {
    const all = [...running.values()];
    if (all.length === 0) {
      status.hide();
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      void vscode.commands.executeCommand('setContext', 'shmscope.recording', false);
      return;
    }
    const r = all[all.length - 1]!;
    const s = r.live.stats;
    status.text = `$(record) ${elapsed(r.live.elapsedMs())} · ${size(s.bytes)} · ${s.frames} frames${s.torn ? ` · ${s.torn} torn` : ''}${all.length > 1 ? ` (+${all.length - 1})` : ''}`;
    status.tooltip = `Recording ${r.panel.options.title} to ${r.file}. Click to stop.`;
    status.command = 'shmscope.inspector.stopRecording';
    status.show();
  };

  async function stop(key: string): Promise<{ file: string; frames: number; torn: number; bytes: number } | undefined> {
    const r = running.get(key);
    if (!r) return undefined;
    r.live.stop();
    const s = await r.live.done;
    return { file: r.file, frames: s.frames, torn: s.torn, bytes: s.bytes };
  }

  context.subscriptions.push(
    status,
    command('shmscope.inspector.startRecording', 'Inspector: Start Recording', async (path?: string, opts?: { durationMs?: number }) => {
      const p = InspectorPanel.active();
      if (!p) throw new Error('Open an inspector first (Shared Memory: Open Inspector).');
      if (!p.options.live) throw new Error(`${p.options.title} is not a live object: only live objects can be recorded.`);
      if (running.has(p.options.key)) throw new Error(`${p.options.title} is already being recorded (Stop Recording ends it).`);
      const target = ipc.parseTarget(p.options.target, 'shm');
      let file = typeof path === 'string' ? path : undefined;
      if (!file) {
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const name = `${p.options.target.replace(/[^A-Za-z0-9._-]+/g, '_')}-${stamp}.shmrec`;
        const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(process.env.HOME ?? '/tmp');
        const uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(base, name), filters: { 'shmscope recording': ['shmrec'] }, title: `Record ${p.options.title}` });
        if (!uri) return undefined;
        file = uri.fsPath;
      }
      const cfg = readConfig(vscode.workspace.getConfiguration(SECTION));
      const bound = p.bound && p.session.schema ? { schema: p.session.schema.schema, file: p.bound.file.fsPath, text: await schemaText(p.bound.file), type: p.session.schema.type } : undefined;
      // Its own read-only handle, found as the inspector found it (a region, an unlinked object or a ring through /proc).
      const handle = await ipc.openObject(target, { readWrite: false });
      const live = startRecording({ target, hz: cfg.recordingHz, schema: bound, semaphores: semaphoresFor(p, target), output: file, title: p.options.title, handle }, { durationMs: opts?.durationMs });
      const key = p.options.key;
      const entry: Running = { live, file, panel: p };
      running.set(key, entry);
      const h = live.header;
      log.info(`recording ${p.options.target} to ${file} at ${h.hz} Hz, ${h.size} bytes per frame${h.seqlock ? `, under the seqlock ${h.seqlock.path}` : ''}${h.semaphores ? `, with ${h.semaphores.target}` : ''}`);
      void vscode.commands.executeCommand('setContext', 'shmscope.recording', true);
      ticker ??= setInterval(render, 500);
      render();
      void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Recording ${p.options.title}`, cancellable: true }, async (progress, token) => {
        token.onCancellationRequested(() => live.stop());
        const tick = setInterval(() => progress.report({ message: `${elapsed(live.elapsedMs())} · ${live.stats.frames} frames · ${size(live.stats.bytes)} (Cancel stops it; the frames stay)` }), 1000);
        try {
          await live.done;
        } finally {
          clearInterval(tick);
        }
      });
      const outputFile = file;
      void live.done.then(
        async (s) => {
          running.delete(key);
          render();
          log.info(`recording ${p.options.target}: ${s.frames} frames, ${s.torn} torn, ${s.missed} missed, ${s.bytes} bytes in ${outputFile}`);
          const open = await vscode.window.showInformationMessage(`Recorded ${s.frames} frames of ${p.options.title} (${size(s.bytes)}${s.torn ? `, ${s.torn} torn` : ''}).`, 'Open Recording');
          if (open) await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(outputFile), REPLAY_VIEW_TYPE);
        },
        (e: unknown) => {
          running.delete(key);
          render();
          const msg = e instanceof Error ? e.message : String(e);
          log.error(`recording ${p.options.target}: ${msg}`);
          void vscode.window.showErrorMessage(`Recording ${p.options.title} stopped: ${msg}`);
        },
      );
      return { file, hz: h.hz, seqlock: h.seqlock?.path, semaphores: h.semaphores?.target };
    }),
    command('shmscope.inspector.stopRecording', 'Inspector: Stop Recording', async () => {
      const p = InspectorPanel.active();
      const key = p && running.has(p.options.key) ? p.options.key : [...running.keys()].pop();
      if (!key) {
        void vscode.window.showInformationMessage('Nothing is being recorded.');
        return undefined;
      }
      return stop(key);
    }),
    // For tests: what the recording status shows (never in the palette).
    command('shmscope.inspector.recordingState', 'Inspector: Recording State', () => {
      const r = [...running.values()].pop();
      return r ? { file: r.file, frames: r.live.stats.frames, bytes: r.live.stats.bytes, text: status.text } : undefined;
    }),
    { dispose: () => { for (const r of running.values()) r.live.stop(); } },
  );
}
