// The exposition of a scan (analysis/metrics.ts), the text Copy Metrics (Prometheus) copies and
// `shmscope metrics` prints: names and labels as Prometheus reads them, hostile label values
// escaped, "no limit" as +Inf, series of objects gone since the last scrape dropped, and the
// failed parts of a scan left out rather than reported as zero.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRenderer, type MetricsScan } from '../../extension/src/analysis/metrics';

function scan(over: Partial<MetricsScan> = {}): MetricsScan {
  return {
    objects: new Map([['shm', 2], ['sem', 1]]),
    bytes: new Map([['shm', 8192]]),
    resident: new Map([['shm', 4096]]),
    leftoverObjects: new Map([['shm', 1]]),
    leftoverBytes: new Map([['shm', 4096]]),
    devshm: [{ mount: '/dev/shm', namespace: 'host', size: 1 << 20, used: 4096 }],
    limits: [
      { name: 'shmmni', value: 4096, used: 2, description: '' },
      { name: 'shmmax', value: 'no limit', used: null, description: '' },
      { name: '/dev/shm', value: 1 << 20, used: 4096, description: '' },
    ],
    waiting: new Map([['sem', 3]]),
    deadlocks: 1,
    deadOwners: 0,
    stuckWaits: 2,
    unreadableProcesses: 5,
    series: { objectBytes: [{ kind: 'shm', target: 'shm:7', namespace: 'host', bytes: 8192 }], fields: [] },
    droppedSeries: 0,
    failed: [],
    durationSeconds: 0.25,
    at: 1_700_000_000_000,
    ...over,
  };
}

/** `name{labels} value` lines, without HELP/TYPE. */
const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

describe('metrics exposition', () => {
  it('writes every metric with its HELP and TYPE, base units and +Inf for "no limit"', async () => {
    const text = await new MetricsRenderer().render(scan());
    for (const n of ['objects', 'bytes', 'resident_bytes', 'leftover_objects', 'leftover_bytes', 'devshm_size_bytes', 'devshm_used_bytes', 'limit', 'limit_used',
      'waiting_threads', 'deadlocks', 'dead_owners', 'stuck_waits', 'unreadable_processes', 'scan_duration_seconds', 'dropped_series']) {
      assert.match(text, new RegExp(`^# HELP shmscope_${n} \\S`, 'm'), n);
      assert.match(text, new RegExp(`^# TYPE shmscope_${n} gauge$`, 'm'), n);
    }
    const l = lines(text);
    for (const want of [
      'shmscope_objects{kind="shm"} 2', 'shmscope_objects{kind="sem"} 1', 'shmscope_bytes{kind="shm"} 8192', 'shmscope_resident_bytes{kind="shm"} 4096',
      'shmscope_leftover_objects{kind="shm"} 1', 'shmscope_leftover_bytes{kind="shm"} 4096',
      'shmscope_devshm_size_bytes{mount="/dev/shm",namespace="host"} 1048576', 'shmscope_devshm_used_bytes{mount="/dev/shm",namespace="host"} 4096',
      'shmscope_limit{name="shmmni"} 4096', 'shmscope_limit{name="shmmax"} +Inf', 'shmscope_limit_used{name="shmmni"} 2',
      'shmscope_waiting_threads{kind="sem"} 3', 'shmscope_waiting_threads{kind="shm"} 0', 'shmscope_deadlocks 1', 'shmscope_dead_owners 0', 'shmscope_stuck_waits 2',
      'shmscope_unreadable_processes 5', 'shmscope_scan_duration_seconds 0.25', 'shmscope_scan_timestamp_seconds 1700000000', 'shmscope_scan_late 0',
      'shmscope_object_bytes{kind="shm",target="shm:7",namespace="host"} 8192', 'shmscope_dropped_series 0',
    ]) assert.ok(l.includes(want), `${want} in\n${l.join('\n')}`);
    // /dev/shm is the devshm series' business, and a limit without a known use has no _used series.
    assert.ok(!l.some((x) => x.includes('name="/dev/shm"') || x.startsWith('shmscope_limit_used{name="shmmax"}')));
  });

  it('escapes hostile label values, drops series of objects gone since the last render, marks a late answer', async () => {
    const r = new MetricsRenderer();
    const evil = 'posix:/a"b\\c\nshmscope_deadlocks 0';
    const first = await r.render(scan({ series: { objectBytes: [{ kind: 'posix-shm', target: evil, namespace: 'host', bytes: 1 }], fields: [{ target: evil, field: 'x"y', value: 7 }] } }));
    const l = lines(first);
    assert.ok(l.includes('shmscope_object_bytes{kind="posix-shm",target="posix:/a\\"b\\\\c\\nshmscope_deadlocks 0",namespace="host"} 1'), l.join('\n'));
    assert.ok(l.includes('shmscope_field{target="posix:/a\\"b\\\\c\\nshmscope_deadlocks 0",field="x\\"y"} 7'));
    assert.equal(l.filter((x) => x.startsWith('shmscope_deadlocks ')).length, 1, 'no forged sample');
    const second = lines(await r.render(scan({ series: { objectBytes: [], fields: [] }, droppedSeries: 3 }), true));
    assert.ok(!second.some((x) => x.startsWith('shmscope_object_bytes') || x.startsWith('shmscope_field')));
    assert.ok(second.includes('shmscope_dropped_series 3'));
    assert.ok(second.includes('shmscope_scan_late 1'));
  });

  it('leaves out the metrics of a part of the scan that failed, and names it', async () => {
    const l = lines(await new MetricsRenderer().render(scan({ failed: ['waits', 'list'], leftoverObjects: undefined, leftoverBytes: undefined })));
    assert.ok(l.includes('shmscope_scan_failed{part="waits"} 1'));
    assert.ok(l.includes('shmscope_scan_failed{part="list"} 1'));
    assert.ok(l.includes('shmscope_limit{name="shmmni"} 4096'), 'what the other parts found is served');
    for (const n of ['shmscope_deadlocks ', 'shmscope_dead_owners ', 'shmscope_stuck_waits ', 'shmscope_waiting_threads', 'shmscope_unreadable_processes ', 'shmscope_leftover_', 'shmscope_objects', 'shmscope_bytes']) {
      assert.ok(!l.some((x) => x.startsWith(n)), `${n} is not claimed as 0`);
    }
  });
});
