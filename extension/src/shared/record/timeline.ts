// What a replay's timeline says, in the page's bar and the status bar alike. Pure.
import { formatSeconds } from '../time';

export { formatSeconds };

/** Where a replay's cursor is. Times are milliseconds since the recording started. */
export interface TimelinePosition {
  frame: number;
  frames: number;
  /** Of this frame, and of the last one. */
  timeMs: number;
  durationMs: number;
  speed: number;
  torn: boolean;
}

/** "#12 / 360 · 1.20 s of 36.00 s · 1×" (frames from 0; the last frame's number after the slash). */
export function timelineLabel(t: TimelinePosition): string {
  return `#${t.frame} / ${Math.max(0, t.frames - 1)} · ${formatSeconds(t.timeMs)} of ${formatSeconds(t.durationMs)} · ${t.speed}×${t.torn ? ' · torn' : ''}`;
}
