// A large import is written by several lanes at once, one PostgreSQL connection each
// (docs/performance.md, "Imports and the draw"). Every address belongs to one lane, chosen
// from its key, so the rows for one address stay in file order within their lane and the last
// one still wins; lines that name no valid address go to lane 0, so their errors stay in file
// order. Each lane resumes from its own count of committed records. Subscribers created by a
// laned import get ids in file order within each lane, not across lanes.

/** Lanes of a large import: two PostgreSQL backends at once keep both cores of a small server busy. */
export const IMPORT_LANES = 2;
/** Files with fewer records are written by one lane: ids in file order, as users expect. */
export const LANES_FROM_RECORDS = 20_000;

export function lanesFor(records: number): number {
  return records >= LANES_FROM_RECORDS ? IMPORT_LANES : 1;
}

/** The lane of an address key (lower-cased address): FNV-1a, stable across runs and versions. */
export function laneOf(key: string, lanes: number): number {
  if (lanes <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % lanes;
}
