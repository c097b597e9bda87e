import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  findCondition,
  isConditionTrue,
  removeCondition,
  setCondition,
  type Condition,
} from './conditions.js';

const t0 = new Date('2025-01-01T10:00:00.123Z');
const t1 = new Date('2025-01-01T10:05:00.000Z');

const connected: Condition = {
  type: 'Connected',
  status: 'True',
  reason: 'SessionEstablished',
  message: 'gNMI session up',
  lastTransitionTime: '2025-01-01T10:00:00Z',
  observedGeneration: 1,
};

describe('setCondition', () => {
  it('appends a condition of a new type with the current time, to the second', () => {
    const out = setCondition([], { type: 'Ready', status: 'False', reason: 'Pending' }, t0);
    assert.deepEqual(out, [
      {
        type: 'Ready',
        status: 'False',
        reason: 'Pending',
        message: '',
        lastTransitionTime: '2025-01-01T10:00:00Z',
      },
    ]);
  });

  it('accepts an undefined list, as a status that was never written has', () => {
    const out = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Connected' }, t0);
    assert.equal(out.length, 1);
  });

  it('keeps lastTransitionTime when the status did not change, while reason and message follow the update', () => {
    const out = setCondition(
      [connected],
      {
        type: 'Connected',
        status: 'True',
        reason: 'Resubscribed',
        message: 'resumed',
        observedGeneration: 2,
      },
      t1,
    );
    assert.deepEqual(out, [
      {
        type: 'Connected',
        status: 'True',
        reason: 'Resubscribed',
        message: 'resumed',
        lastTransitionTime: '2025-01-01T10:00:00Z',
        observedGeneration: 2,
      },
    ]);
  });

  it('moves lastTransitionTime to now when the status changes', () => {
    const out = setCondition([connected], { type: 'Connected', status: 'False', reason: 'Unreachable' }, t1);
    assert.equal(out[0]?.lastTransitionTime, '2025-01-01T10:05:00Z');
    assert.equal(out[0]?.status, 'False');
  });

  it('replaces in place and leaves the other conditions and their order alone', () => {
    const ready: Condition = { ...connected, type: 'Ready' };
    const degraded: Condition = { ...connected, type: 'Degraded', status: 'False' };
    const out = setCondition(
      [ready, connected, degraded],
      { type: 'Connected', status: 'False', reason: 'AuthFailed' },
      t1,
    );
    assert.deepEqual(
      out.map((c) => c.type),
      ['Ready', 'Connected', 'Degraded'],
    );
    assert.equal(out[0], ready);
    assert.equal(out[2], degraded);
  });

  it('does not modify the list it was given', () => {
    const input = [connected];
    const snapshot = structuredClone(input);
    setCondition(input, { type: 'Connected', status: 'False', reason: 'TLSError' }, t1);
    setCondition(input, { type: 'Ready', status: 'False', reason: 'TLSError' }, t1);
    assert.deepEqual(input, snapshot);
  });
});

describe('condition lookups', () => {
  it('finds a condition by type and tells whether it is True', () => {
    assert.equal(findCondition([connected], 'Connected'), connected);
    assert.equal(findCondition([connected], 'Ready'), undefined);
    assert.equal(isConditionTrue([connected], 'Connected'), true);
    assert.equal(isConditionTrue([{ ...connected, status: 'Unknown' }], 'Connected'), false);
    assert.equal(isConditionTrue(undefined, 'Connected'), false);
  });

  it('removes a condition by type', () => {
    assert.deepEqual(removeCondition([connected], 'Connected'), []);
    assert.deepEqual(removeCondition([connected], 'Ready'), [connected]);
  });
});
