import pg from 'pg';

// bigint columns (ids, counts) come back as JS numbers: our ids stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
// bigint[] (1016), e.g. array_agg of ids: '{1,2,3}' → [1, 2, 3]. Our id arrays hold no NULLs.
const INT8_ARRAY = 1016 as (typeof pg.types.builtins)['INT8'];
pg.types.setTypeParser(INT8_ARRAY, (value: string) =>
  value === '{}' ? [] : value.slice(1, -1).split(',').map(Number),
);

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 30_000 });
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
