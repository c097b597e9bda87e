import { InputError } from '@switchforge/platform/errors';

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

export const MAX_PAGE = 500;

export function checkFirst(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE)
    throw new InputError(`first must be between 1 and ${MAX_PAGE}`);
  return first;
}

export const encodeCursor = (key: string): string => Buffer.from(key, 'utf8').toString('base64url');

export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeCursor(key) !== cursor) throw new InputError('invalid cursor');
  return key;
}

/** Keyset paging over a list sorted by `keyOf`: items after the cursor's key. */
export function paginate<T>(
  sorted: readonly T[],
  keyOf: (t: T) => string,
  first: number,
  after: string | null | undefined,
): Connection<T> {
  checkFirst(first);
  const afterKey = after ? decodeCursor(after) : undefined;
  const start = afterKey === undefined ? 0 : sorted.findIndex((t) => keyOf(t) > afterKey);
  const page = start < 0 ? [] : sorted.slice(start, start + first);
  const edges = page.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    nodes: page,
    pageInfo: {
      hasNextPage: start >= 0 && start + first < sorted.length,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: sorted.length,
  };
}
