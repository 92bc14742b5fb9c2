import { describe, expect, it } from 'vitest';
import { isConnectionLoss, retryOnConnectionLoss } from '../../src/db/retry.js';

const shutdown = Object.assign(new Error('terminating connection due to administrator command'), {
  code: '57P01',
});

describe('riding out a database restart', () => {
  it('recognises a server shutting down, refusing connections or cutting them', () => {
    expect(isConnectionLoss(shutdown)).toBe(true);
    expect(isConnectionLoss(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('does not mistake a statement error for a lost connection', () => {
    expect(isConnectionLoss(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(
      false,
    );
    expect(isConnectionLoss(new Error('syntax error at or near "x"'))).toBe(false);
    expect(isConnectionLoss(undefined)).toBe(false);
    expect(isConnectionLoss('57P01')).toBe(false);
  });

  it('runs the statement again until the database answers', async () => {
    let calls = 0;
    const retried: number[] = [];
    const result = await retryOnConnectionLoss(
      () => {
        calls++;
        return calls < 3 ? Promise.reject(shutdown) : Promise.resolve('written');
      },
      { onRetry: (_e, attempt) => retried.push(attempt) },
    );
    expect(result).toBe('written');
    expect(calls).toBe(3);
    expect(retried).toEqual([1, 2]);
  });

  it('throws other errors at once, and a lasting outage after the time limit', async () => {
    let calls = 0;
    const conflict = Object.assign(new Error('duplicate key'), { code: '23505' });
    await expect(
      retryOnConnectionLoss(() => {
        calls++;
        return Promise.reject(conflict);
      }),
    ).rejects.toBe(conflict);
    expect(calls).toBe(1);
    await expect(
      retryOnConnectionLoss(() => Promise.reject(shutdown), { timeoutMs: 250 }),
    ).rejects.toBe(shutdown);
  });
});
