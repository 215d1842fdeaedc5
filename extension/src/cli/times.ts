// Every CLI option and variable that takes a duration, each read through the one grammar
// (shared/time.ts): `500ms`, `12.5s`, `5m`, `1h`, `1m30s`. A bare number keeps the unit the option
// always had (seconds for --duration and --deadline, milliseconds for the others). `decode --at`
// takes a point in a recording the same way (shared/record parsePosition).
import { DURATION_FORMS, parseDuration, type BareUnit } from '../shared/time';
import { UserError } from './errors';

/** Milliseconds of a duration option, or a line naming it. 0 only when `zero` allows it (it then means "none"). */
export function duration(name: string, text: string, o: { bare?: BareUnit; zero?: boolean; max?: number } = {}): number {
  const ms = parseDuration(text, o.bare ?? 's');
  const unit = o.bare === 'ms' ? 'milliseconds' : 'seconds';
  if (ms === undefined || (ms === 0 && !o.zero)) {
    throw new UserError(`${name} must be a duration like ${DURATION_FORMS} (a bare number is ${unit})${o.zero ? ', or 0 for none' : ''}, not "${text}"`);
  }
  if (o.max !== undefined && ms > o.max) throw new UserError(`${name} is at most ${o.max / 1000} s, not "${text}"`);
  return Math.ceil(ms);
}

/** The options (and variable) that take a duration, by name, with how each reads one; the commands parse through these. */
export const DURATION_OPTIONS = {
  /** record: how long to record. */
  '--duration': (text: string) => duration('--duration', text),
  /** waits --watch: how often to re-scan (at least 100 ms). */
  '--interval': (text: string) => Math.max(100, duration('--interval', text, { bare: 'ms' })),
  /** waits: a wait with no change for this long is stuck. */
  '--stuck-after': (text: string) => duration('--stuck-after', text, { bare: 'ms' }),
  /** sem wait: how long it may block (0: try once). */
  '--timeout': (text: string) => duration('--timeout', text, { bare: 'ms', zero: true, max: 86_400_000 }),
  /** list, dump, decode, check: give up after this long (0: never). */
  '--deadline': (text: string) => duration('--deadline', text, { zero: true }),
  SHMSCOPE_DEADLINE: (text: string) => duration('SHMSCOPE_DEADLINE', text, { zero: true }),
} as const;
