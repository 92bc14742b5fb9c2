// The SMTP pool's size under a relay's 421s (docs/operations.md, "Tuning for your relay"):
// a quarter fewer on a refusal, at most once a second; back up one at a time, only after ten
// quiet seconds; never above SMTP_POOL_SIZE or below one.
import { describe, expect, it } from 'vitest';
import { GROW_AFTER_MS, PoolSizer, isConnectionRefusal } from '../../src/domain/pool-sizing.js';
import { Gate } from '../../src/lib/gate.js';

describe('the pool sizer', () => {
  it('starts at the ceiling and never grows past it', () => {
    const sizer = new PoolSizer(8);
    for (let i = 0; i < 100; i++) sizer.accepted(i);
    expect(sizer.size).toBe(8);
  });

  it('shrinks by a quarter on a refusal, once a second however many arrive', () => {
    const sizer = new PoolSizer(40);
    expect(sizer.refused(1000)).toBe(true);
    expect(sizer.size).toBe(30);
    for (let t = 1001; t < 2000; t += 50) expect(sizer.refused(t)).toBe(false);
    expect(sizer.size).toBe(30);
    expect(sizer.refused(2000)).toBe(true);
    expect(sizer.size).toBe(22);
  });

  it('never goes below one connection', () => {
    const sizer = new PoolSizer(3);
    for (let t = 0; t < 10_000; t += 1000) sizer.refused(t);
    expect(sizer.size).toBe(1);
  });

  it('grows one connection per pool of accepted messages, only after quiet seconds', () => {
    const sizer = new PoolSizer(10);
    sizer.refused(0);
    expect(sizer.size).toBe(7);
    for (let i = 0; i < 50; i++) sizer.accepted(GROW_AFTER_MS - 1);
    expect(sizer.size).toBe(7);
    for (let i = 0; i < 6; i++) sizer.accepted(GROW_AFTER_MS);
    expect(sizer.size).toBe(7);
    sizer.accepted(GROW_AFTER_MS);
    expect(sizer.size).toBe(8);
    for (let i = 0; i < 100; i++) sizer.accepted(GROW_AFTER_MS + i);
    expect(sizer.size).toBe(10);
  });

  it('takes only a 421 as a refusal', () => {
    expect(isConnectionRefusal({ responseCode: 421 })).toBe(true);
    for (const responseCode of [450, 451, 452, 550, undefined])
      expect(isConnectionRefusal({ responseCode })).toBe(false);
  });
});

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('a gate resized while in use', () => {
  it('lets waiting holders in when it grows, and takes slots back as holders leave when it shrinks', async () => {
    const gate = new Gate(2);
    const entered: number[] = [];
    await gate.enter();
    await gate.enter();
    const waiting = [1, 2, 3].map((n) => gate.enter().then(() => entered.push(n)));
    gate.resize(3);
    await flush();
    expect(entered).toEqual([1]);
    // Down to one: the three holders leave one by one; only the last leaving lets one in.
    gate.resize(1);
    gate.leave();
    gate.leave();
    await flush();
    expect(entered).toEqual([1]);
    gate.leave();
    await flush();
    expect(entered).toEqual([1, 2]);
    gate.leave();
    await Promise.all(waiting);
    expect(entered).toEqual([1, 2, 3]);
  });
});
