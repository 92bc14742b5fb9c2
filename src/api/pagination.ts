import { decodeCursor, page } from '../domain/cursor.js';
import { validation } from '../domain/errors.js';

export const DEFAULT_LIMIT = 100;

export function pageParams(query: { after?: string | undefined; limit?: number | undefined }) {
  let after: number | undefined;
  if (query.after !== undefined && query.after !== '') {
    after = decodeCursor(query.after);
    if (after === undefined)
      throw validation([{ path: 'after', message: 'is not a valid cursor' }]);
  }
  const limit = query.limit ?? DEFAULT_LIMIT;
  // One extra row tells whether there is a next page.
  return { after, limit, fetch: limit + 1 };
}

export function pageResult<T extends { id: number }, J>(
  rows: T[],
  limit: number,
  present: (row: T) => J,
) {
  const { data, next } = page(rows, limit);
  return { data: data.map(present), next };
}
