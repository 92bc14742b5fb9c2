import pg from 'pg';

const INT8 = 20;
const INT8_ARRAY = 1016;

/**
 * Our pools' type parsers, given to each pool rather than set globally on import (importing a
 * module changes nothing): bigint columns (ids, counts) come back as JS numbers, our ids stay
 * far below 2^53; bigint[] (e.g. array_agg of ids) '{1,2,3}' as [1, 2, 3], without NULLs.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8) return (value: string) => Number(value);
    if (oid === INT8_ARRAY) {
      return (value: string) => (value === '{}' ? [] : value.slice(1, -1).split(',').map(Number));
    }
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    idleTimeoutMillis: 30_000,
    types: TYPES,
  });
  // An idle client that errors (server restart) must not crash the process; the pool drops it.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs fn in a transaction on one client; rolls back on any error. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The cheapest statement the server must answer: readiness checks. */
export async function ping(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
