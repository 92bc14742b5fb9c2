import type { Queryable } from '../pool.js';

export interface TokenRow {
  id: number;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, prefix, scopes, created_at, last_used_at, revoked_at';

export class TokensRepository {
  constructor(private readonly db: Queryable) {}

  async create(name: string, hash: Buffer, prefix: string, scopes: string[]): Promise<TokenRow> {
    const { rows } = await this.db.query<TokenRow>(
      `INSERT INTO api_tokens (name, token_hash, prefix, scopes) VALUES ($1, $2, $3, $4)
       RETURNING ${COLUMNS}`,
      [name, hash, prefix, scopes],
    );
    return rows[0]!;
  }

  /** The live (not revoked) token with this hash; marks it used at most once a minute. */
  async findActiveByHash(hash: Buffer): Promise<TokenRow | undefined> {
    const { rows } = await this.db.query<TokenRow>(
      `UPDATE api_tokens SET last_used_at = now()
       WHERE token_hash = $1 AND revoked_at IS NULL
         AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
       RETURNING ${COLUMNS}`,
      [hash],
    );
    if (rows[0]) return rows[0];
    const found = await this.db.query<TokenRow>(
      `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
      [hash],
    );
    return found.rows[0];
  }

  async page(after: number | undefined, limit: number): Promise<TokenRow[]> {
    const { rows } = await this.db.query<TokenRow>(
      `SELECT ${COLUMNS} FROM api_tokens WHERE ($1::bigint IS NULL OR id > $1)
       ORDER BY id LIMIT $2`,
      [after ?? null, limit],
    );
    return rows;
  }

  async revoke(id: number): Promise<boolean> {
    const result = await this.db.query(
      'UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1',
      [id],
    );
    return (result.rowCount ?? 0) > 0;
  }
}
