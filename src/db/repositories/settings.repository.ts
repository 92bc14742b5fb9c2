import type { Queryable } from '../pool.js';

export class SettingsRepository {
  constructor(private readonly db: Queryable) {}

  async get(key: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ value: string }>(
      'SELECT value FROM settings WHERE key = $1',
      [key],
    );
    return rows[0]?.value;
  }

  /** Stores value unless the key exists; returns the stored value and whether we stored it. */
  async getOrCreate(key: string, value: string): Promise<{ value: string; created: boolean }> {
    const inserted = await this.db.query<{ value: string }>(
      'INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value',
      [key, value],
    );
    if (inserted.rows[0]) return { value: inserted.rows[0].value, created: true };
    const existing = await this.get(key);
    if (existing === undefined) throw new Error(`setting ${key} vanished`);
    return { value: existing, created: false };
  }
}
