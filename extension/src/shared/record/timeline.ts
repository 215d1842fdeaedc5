// What a replay's timeline says, in the page's bar and the status bar alike. Pure.
import type { TimelineParams } from '../protocol';

/** Seconds with two decimals, minutes past a minute: 1.20 s, 1:05.30. */
export function formatSeconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(2)} s`;
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(2).padStart(5, '0')}`;
}

/** "#12 / 360 · 1.20 s of 36.00 s · 1×" (frames from 0; the last frame's number after the slash). */
export function timelineLabel(t: Pick<TimelineParams, 'frame' | 'frames' | 'timeMs' | 'durationMs' | 'speed' | 'torn'>): string {
  return `#${t.frame} / ${Math.max(0, t.frames - 1)} · ${formatSeconds(t.timeMs)} of ${formatSeconds(t.durationMs)} · ${t.speed}×${t.torn ? ' · torn' : ''}`;
}
