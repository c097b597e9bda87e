import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphQLError, parse } from 'graphql';
import { buildSchema } from '../schema/index.js';
import { SharedPayloads, operationShareKey, type LiveOperation } from './shared-payloads.js';

const DOC = `subscription S($ns: String!, $n: String!, $p: String, $since: Sequence, $withPath: Boolean = true) {
  deviceUpdates(namespace: $ns, name: $n, pathPrefix: $p, sinceSequence: $since) {
    sequence committedAt dropped values { path @include(if: $withPath) value }
  }
}`;

const key = (vars: Record<string, unknown>, query = DOC, operationName: string | null = 'S') =>
  operationShareKey(query, parse(query), operationName, vars);

test('operations that differ only in what the root field selects share a key; anything that changes the payload does not', () => {
  const base = { ns: 'a', n: 'leaf1', p: null, since: null, withPath: true };
  const cases: {
    name: string;
    vars: Record<string, unknown>;
    query?: string;
    op?: string | null;
    same: boolean;
  }[] = [
    { name: 'another resume sequence', vars: { ...base, since: '17' }, same: true },
    { name: 'another path prefix', vars: { ...base, p: '/system' }, same: true },
    { name: 'another device', vars: { ...base, ns: 'b', n: 'x' }, same: true },
    { name: 'a variable used in @include', vars: { ...base, withPath: false }, same: false },
    { name: 'another selection', vars: base, query: DOC.replace('dropped ', ''), same: false },
    { name: 'another operation name', vars: base, op: null, same: false },
  ];
  for (const c of cases) {
    const same = key(c.vars, c.query ?? DOC, c.op === undefined ? 'S' : c.op) === key(base);
    assert.equal(same, c.same, c.name);
  }
});

function operation(contextValue: unknown = {}): LiveOperation {
  const document = parse(DOC);
  const variableValues = { ns: 'a', n: 'leaf1' };
  return {
    schema: buildSchema(),
    document,
    operationName: 'S',
    variableValues,
    contextValue,
    shareKey: operationShareKey(DOC, document, 'S', variableValues),
  };
}

function update(sequence: number, dropped: number) {
  return {
    deviceUpdates: {
      namespace: 'a',
      name: 'leaf1',
      sequence,
      committedAt: new Date(0),
      values: [
        {
          path: '/p',
          labels: {},
          timestampNs: '0',
          timestamp: new Date(0),
          value: 1,
          text: null,
          deleted: false,
        },
      ],
      dropped,
      gap: null,
    },
  };
}

test('an event is executed once per distinct operation and the same JSON goes to every subscriber', () => {
  const payloads = new SharedPayloads((e) => e);
  const event = {};
  let built = 0;
  const root = () => (built++, update(5, 0));
  const a = payloads.render(operation(), event, root, true);
  const b = payloads.render(operation(), event, root, true);
  assert.equal(built, 1);
  assert.equal(a, b);
  assert.deepEqual(JSON.parse(a as string), {
    data: {
      deviceUpdates: {
        sequence: '5',
        committedAt: '1970-01-01T00:00:00.000Z',
        dropped: 0,
        values: [{ path: '/p', value: 1 }],
      },
    },
  });
  // Another event is rendered anew.
  payloads.render(operation(), {}, root, true);
  assert.equal(built, 2);
});

test('a payload meant for one subscriber (its dropped count) is never shared', () => {
  const payloads = new SharedPayloads((e) => e);
  const event = {};
  const shared = payloads.render(operation(), event, () => update(5, 0), true);
  const own = payloads.render(operation(), event, () => update(5, 3), false);
  const again = payloads.render(operation(), event, () => update(5, 9), true);
  assert.equal(JSON.parse(own as string).data.deviceUpdates.dropped, 3);
  assert.equal(again, shared);
});

test('execution errors in a payload are masked as the server masks them', () => {
  const payloads = new SharedPayloads(() => new GraphQLError('Unexpected error.'));
  const broken = update(5, 0);
  (broken.deviceUpdates as { committedAt: unknown }).committedAt = 'not a date';
  const json = payloads.render(operation(), {}, () => broken, true) as string;
  const parsed = JSON.parse(json) as { errors: { message: string }[] };
  assert.deepEqual(
    parsed.errors.map((e) => e.message),
    ['Unexpected error.'],
  );
});
