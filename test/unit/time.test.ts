// The one duration and time grammar (shared/time.ts), and every CLI option that takes a duration
// or a time reading the same forms through it: the option parsers run in-process, one table of
// options by one table of forms, and `decode --at` / Go to Frame on recordings in memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineMs } from '../../extension/src/cli/deadline';
import { DURATION_OPTIONS } from '../../extension/src/cli/times';
import { MemoryAccess, parsePosition, Recorder, Recording, type RecordingHeader } from '../../extension/src/shared/record';
import { formatSeconds, parseDuration, parseIsoTime, parseTimePoint } from '../../extension/src/shared/time';

/** The forms every duration takes, with their milliseconds. */
const FORMS: [string, number][] = [['500ms', 500], ['12.5s', 12_500], ['5m', 300_000], ['1h', 3_600_000], ['1m30s', 90_000]];

describe('the duration grammar', () => {
  it('reads every form, units largest first, each once', () => {
    for (const [text, ms] of FORMS) assert.equal(parseDuration(text), ms, text);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('2m500ms'), 120_500);
    assert.equal(parseDuration(' 0.25S '), 250, 'spaces around and upper-case units');
    assert.equal(parseDuration('0s'), 0);
    for (const bad of ['', 'soon', '-1s', '1s1m', '1s1s', '1m30', '1.s', 's', '5 m', '1d', '0x10', 'ms']) assert.equal(parseDuration(bad, 's'), undefined, bad);
  });

  it('reads a bare number only in the unit the caller names', () => {
    assert.equal(parseDuration('10'), undefined);
    assert.equal(parseDuration('10', 's'), 10_000);
    assert.equal(parseDuration('10', 'ms'), 10);
    assert.equal(parseDuration('2.5', 's'), 2500);
  });

  it('reads ISO-8601 times with Z, an offset or none, and nothing looser', () => {
    const t = Date.UTC(2026, 11, 4, 20, 41, 3);
    assert.equal(parseIsoTime('2026-12-04T20:41:03Z'), t);
    assert.equal(parseIsoTime('2026-12-04T20:41:03.250Z'), t + 250);
    assert.equal(parseIsoTime('2026-12-04T21:41:03+01:00'), t);
    assert.equal(parseIsoTime('2026-12-04T15:41:03-0500'), t);
    assert.equal(parseIsoTime('2026-12-04T21:41+01'), t - 3000);
    assert.equal(parseIsoTime('2026-12-04T20:41:03'), new Date(2026, 11, 4, 20, 41, 3).getTime(), 'no zone: local time');
    for (const bad of ['2026-12-04', 'Dec 4 2026', '2026-13-04T20:41:03Z', '2026-12-04T20:41:03Zjunk', 'yesterday']) assert.equal(parseIsoTime(bad), undefined, bad);
  });

  it('reads a point in time as a duration after an origin, else an absolute time', () => {
    assert.deepEqual(parseTimePoint('1m30s'), { afterMs: 90_000 });
    assert.deepEqual(parseTimePoint('2', 's'), { afterMs: 2000 });
    assert.deepEqual(parseTimePoint('2026-12-04T20:41:03Z'), { epochMs: Date.UTC(2026, 11, 4, 20, 41, 3) });
    assert.equal(parseTimePoint('later'), undefined);
    assert.equal(formatSeconds(1200), '1.20 s');
    assert.equal(formatSeconds(65_300), '1:05.30');
  });
});

const START = Date.UTC(2026, 11, 4, 20, 41, 3);

/** A recording in memory whose frames are taken at these times (ms since its start). */
async function recordingAt(times: number[]): Promise<Recording> {
  const header: RecordingHeader = {
    version: 1, target: 'shm:1', title: 'test', host: 'h', start: new Date(START).toISOString(), startMs: START, hz: 1,
    objectSize: 4, ranges: [{ offset: 0, length: 4 }], size: 4,
  };
  const out: Uint8Array[] = [];
  let clock = 0;
  const rec = new Recorder(header, {
    source: { readInto: (buf: Uint8Array) => (buf.fill(clock & 0xff), buf.length) },
    write: (b) => out.push(b.slice()), now: () => clock, pause: () => Promise.resolve(),
  });
  for (const t of times) {
    clock = t;
    await rec.capture(Infinity);
  }
  const all = new Uint8Array(out.reduce((a, b) => a + b.length, 0));
  let p = 0;
  for (const b of out) {
    all.set(b, p);
    p += b.length;
  }
  return new Recording(new MemoryAccess(all));
}

describe('every CLI option that takes a duration or a time reads the same forms', () => {
  it('--duration, --interval, --stuck-after, --timeout, --deadline and SHMSCOPE_DEADLINE', () => {
    for (const [name, parse] of Object.entries(DURATION_OPTIONS)) {
      for (const [text, ms] of FORMS) assert.equal(parse(text), Math.max(ms, name === '--interval' ? 100 : 0), `${name} ${text}`);
      assert.throws(() => parse('soon'), new RegExp(`^UserError: ${name} must be a duration like 500ms, 12.5s, 5m, 1h or 1m30s .*not "soon"$`), `${name} names itself`);
    }
    assert.equal(deadlineMs('1m30s', '5m'), 90_000, 'the option over the variable');
    assert.equal(deadlineMs(undefined, '12.5s'), 12_500, 'the variable');
  });

  it('--at and Go to Frame or Time: the same durations since the start, ISO-8601 times, and nothing past the end', async () => {
    const times = [0, 500, 12_500, 90_000, 300_000, 3_600_000, 5_400_000];
    const rec = await recordingAt(times);
    for (const [text, ms] of FORMS) assert.equal(parsePosition(rec, text), times.indexOf(ms), `--at ${text}`);
    assert.equal(parsePosition(rec, '#3'), 3);
    assert.equal(parsePosition(rec, '2026-12-04T20:41:15.500Z'), 2, 'an ISO time with Z');
    assert.equal(parsePosition(rec, '2026-12-04T21:42:33+01:00'), 3, 'an ISO time with an offset');
    assert.equal(parsePosition(rec, '1h30m'), 6, 'the last frame, exactly');

    const short = await recordingAt([0, 1000, 2000]);
    // It spans its start to one period (1 s at 1 Hz) after its last frame.
    const span = /which spans 0 to 3\.00 s \(2026-12-04T20:41:03\.000Z to 2026-12-04T20:41:06\.000Z\)$/;
    assert.throws(() => parsePosition(short, '10m'), (e: Error) => /^10m is past the end of the recording, /.test(e.message) && span.test(e.message));
    assert.throws(() => parsePosition(short, '2026-12-04T20:41:06.001Z'), /past the end/);
    assert.equal(parsePosition(short, '2026-12-04T20:41:06Z'), 2, 'within the last frame\'s period: the last frame');
    assert.throws(() => parsePosition(short, '2026-12-04T20:41:02Z'), /^Error: 2026-12-04T20:41:02Z is before the start of the recording/);
    assert.equal(parsePosition(short, '2s'), 2);
    assert.throws(() => parsePosition(short, 'soon'), /not a position: give #FRAME, a time since the start \(500ms, 12\.5s, 5m, 1h or 1m30s\) or an ISO-8601 time/);
  });
});
