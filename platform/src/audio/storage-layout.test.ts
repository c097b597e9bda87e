import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AudioInputError } from './input-error.js';
import { jobOfKey, jobPrefix, keyInNamespace } from './storage-layout.js';

describe('storage layout', () => {
  it('puts a job under its namespace’s area', () =>
    assert.equal(jobPrefix('lab', 'c0ffee-1'), 'namespaces/lab/jobs/c0ffee-1'));

  it('maps a user path into the namespace’s area', () => {
    assert.equal(keyInNamespace('b', 'in/song.wav'), 'namespaces/b/in/song.wav');
    assert.equal(
      keyInNamespace('b', 'jobs/uid-of-a/stems/vocals.wav'),
      'namespaces/b/jobs/uid-of-a/stems/vocals.wav',
    );
  });

  const refused = [
    '../a/in/song.wav',
    'in/../../a/in/song.wav',
    '/namespaces/a/in/song.wav',
    '/etc/passwd',
    './in/song.wav',
    'in//song.wav',
    'in\\..\\..\\a',
    'in/song.wav\0',
    '',
  ];
  for (const p of refused) {
    it(`refuses ${JSON.stringify(p)}`, () => {
      assert.throws(
        () => keyInNamespace('b', p),
        (e: unknown) => e instanceof AudioInputError && e.code === 'PathOutsideStorage',
      );
    });
  }

  it('finds the job a key belongs to, and only under a job prefix', () => {
    assert.deepEqual(jobOfKey('namespaces/a/jobs/u1/stems/x.wav'), { namespace: 'a', uid: 'u1' });
    assert.equal(jobOfKey('namespaces/a/in/x.wav'), undefined);
    assert.equal(jobOfKey('jobs/u1/x.wav'), undefined);
  });
});
