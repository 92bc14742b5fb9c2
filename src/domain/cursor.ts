// Cursor pagination on a monotonically increasing id: stable under inserts, never OFFSET.
// The cursor is opaque to clients (base64url of the last id seen).

export function encodeCursor(id: number | string): string {
  return Buffer.from(`id:${id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^id:(\d{1,18})$/.exec(text);
  if (!match) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : undefined;
}

/** Given limit+1 rows, returns the page and the cursor for the next one (null at the end). */
export function page<T extends { id: number }>(rows: T[], limit: number) {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data.at(-1);
  return { data, next: hasMore && last ? encodeCursor(last.id) : null };
}
