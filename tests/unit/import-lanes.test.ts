// Which lane writes an address (docs/performance.md, "Imports and the draw"): always the same
// one for the same key, every lane used, and one lane for small files.
import { describe, expect, it } from 'vitest';
import {
  IMPORT_LANES,
  LANES_FROM_RECORDS,
  laneOf,
  lanesFor,
} from '../../src/domain/import-lanes.js';

describe('import lanes', () => {
  it('puts an address in the same lane every time, whatever run reads it', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `person.${i}@example${i % 7}.org`);
    expect(keys.map((k) => laneOf(k, 2))).toEqual(keys.map((k) => laneOf(k, 2)));
    // Fixed values: a later version must not move an address to another lane mid-import.
    expect(
      ['ada@example.org', 'grace@example.org', 'bob@example.org', 'carl@example.org'].map((k) =>
        laneOf(k, 2),
      ),
    ).toEqual([1, 1, 0, 1]);
  });

  it('spreads addresses over every lane about evenly', () => {
    for (const lanes of [2, 3, 4]) {
      const counts = new Array<number>(lanes).fill(0);
      for (let i = 0; i < 20_000; i++) counts[laneOf(`p${i}@example.org`, lanes)]!++;
      for (const n of counts)
        expect(Math.abs(n - 20_000 / lanes)).toBeLessThan(20_000 / lanes / 10);
    }
  });

  it('uses one lane for one lane, and for files below the threshold', () => {
    expect(laneOf('anyone@example.org', 1)).toBe(0);
    expect(lanesFor(LANES_FROM_RECORDS - 1)).toBe(1);
    expect(lanesFor(LANES_FROM_RECORDS)).toBe(IMPORT_LANES);
  });
});
