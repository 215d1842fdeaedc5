// The one grammar of durations and points in time, for every CLI option and variable that takes
// one, the editor's prompts and a replay's Go to Frame or Time: `500ms`, `12.5s`, `5m`, `1h`,
// `1m30s` (units from hours down to milliseconds, each at most once, largest first); where a point
// in time is meant, also an ISO-8601 time (`2026-12-04T20:41:03Z`, `…+01:00`). Pure: no vscode,
// no fs, no clock.

/** The forms, as a message lists them. */
export const DURATION_FORMS = '500ms, 12.5s, 5m, 1h or 1m30s';

/** The unit of a bare number (`10`): each option keeps the one it always had. */
export type BareUnit = 'ms' | 's';

/** Milliseconds per unit, largest first: the order the units must come in. */
const UNITS = [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]] as const;

const NUMBER = /^\d+(?:\.\d+)?$/;
/** One number and its unit; `ms` before `m` and `s` so that the longest unit wins. */
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;

/**
 * Milliseconds of a duration (0 or more), or undefined when `text` is not one. A bare number counts
 * in `bare`; without `bare` it is refused.
 */
export function parseDuration(text: string, bare?: BareUnit): number | undefined {
  const t = text.trim().toLowerCase();
  if (NUMBER.test(t)) return bare ? Number(t) * (bare === 'ms' ? 1 : 1000) : undefined;
  let ms = 0;
  let next = 0; // the index in UNITS the next part may use at the earliest
  PART.lastIndex = 0;
  while (PART.lastIndex < t.length) {
    const at = PART.lastIndex;
    const m = PART.exec(t);
    if (!m || m.index !== at) return undefined;
    const unit = UNITS.findIndex(([u]) => u === m[2]);
    if (unit < next) return undefined;
    next = unit + 1;
    ms += Number(m[1]) * UNITS[unit]![1];
  }
  return next > 0 && Number.isFinite(ms) ? ms : undefined;
}

/** `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z`, an offset (`+01:00`, `+0100`) or none (local time). */
const ISO = /^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(z|[+-]\d\d(?::?\d\d)?)?$/i;

/** Epoch milliseconds of an ISO-8601 time, or undefined when `text` is not one. */
export function parseIsoTime(text: string): number | undefined {
  const m = ISO.exec(text.trim());
  if (!m) return undefined;
  const zone = m[2] === undefined ? '' : /^z$/i.test(m[2]) ? 'Z' : m[2].length === 3 ? `${m[2]}:00` : m[2].includes(':') ? m[2] : `${m[2].slice(0, 3)}:${m[2].slice(3)}`;
  const ms = Date.parse(`${m[1]!.replace(' ', 'T')}${zone}`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** A point in time: a duration after an origin (a recording's start), or an absolute time. */
export type TimePoint = { afterMs: number } | { epochMs: number };

/** A point in time as a duration from the origin or an ISO-8601 time, or undefined. */
export function parseTimePoint(text: string, bare?: BareUnit): TimePoint | undefined {
  const after = parseDuration(text, bare);
  if (after !== undefined) return { afterMs: after };
  const epoch = parseIsoTime(text);
  return epoch === undefined ? undefined : { epochMs: epoch };
}

/** Seconds with two decimals, minutes past a minute: 1.20 s, 1:05.30. */
export function formatSeconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(2)} s`;
  const m = Math.floor(s / 60);
  return `${m}:${(s - m * 60).toFixed(2).padStart(5, '0')}`;
}
