// The CLI's overall deadline: where its length comes from (option, environment, default) and what
// counts as "none".
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadlineMs, DEFAULT_DEADLINE } from '../../extension/src/cli/deadline';
import { duration } from '../../extension/src/cli/times';

describe('deadlineMs', () => {
  it('takes the option over the environment, the environment over the default', () => {
    assert.equal(deadlineMs('30s', '5m'), 30_000);
    assert.equal(deadlineMs(undefined, '5m'), 300_000);
    assert.equal(deadlineMs(undefined, undefined), duration('default', DEFAULT_DEADLINE));
    assert.equal(deadlineMs(undefined, '  '), duration('default', DEFAULT_DEADLINE), 'an empty variable is no setting');
  });

  it('reads 0 in any unit as no deadline', () => {
    for (const none of ['0', '0s', '0ms', '0.0m', ' 0 ']) assert.equal(deadlineMs(none, undefined), 0, none);
    assert.equal(deadlineMs(undefined, '0'), 0);
  });

  it('names where a bad value came from', () => {
    assert.throws(() => deadlineMs('soon', undefined), /--deadline must be a duration like 500ms, 12.5s, 5m, 1h or 1m30s \(a bare number is seconds\), or 0 for none, not "soon"/);
    assert.throws(() => deadlineMs(undefined, '-1'), /SHMSCOPE_DEADLINE must be a duration/);
  });
});
