import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { migrate } from '../../src/db/migrate.js';
import { createPool, type Pool } from '../../src/db/pool.js';
import { SettingsRepository } from '../../src/db/repositories/settings.repository.js';
import { hashToken } from '../../src/domain/tokens.js';
import { loadSecrets } from '../../src/services/secrets.service.js';
import { dropDatabase, testDatabaseUrl, uniqueName } from '../helpers/context.js';

const dbName = uniqueName('bulletin_test_secrets');
let pool: Pool;
beforeAll(async () => {
  await migrate(testDatabaseUrl(dbName));
  pool = createPool(testDatabaseUrl(dbName));
});
afterAll(async () => {
  await pool?.end();
  await dropDatabase(dbName);
});

describe('generated secrets', () => {
  it('generates SECRET_KEY and one admin token once, even when processes start together', async () => {
    const config = loadConfig({ env: { NODE_ENV: 'test', DATABASE_URL: testDatabaseUrl(dbName) } });
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        loadSecrets(config, new SettingsRepository(createPoolOnce())),
      ),
    );
    const keys = new Set(results.map((r) => r.secretKey));
    expect(keys.size).toBe(1);
    expect([...keys][0]!.length).toBeGreaterThanOrEqual(32);
    const generated = results.filter((r) => r.generatedAdminToken);
    expect(generated).toHaveLength(1);
    for (const r of results)
      expect(r.adminTokenHash.equals(hashToken(generated[0]!.generatedAdminToken!))).toBe(true);
    // Only the hash is stored.
    const { rows } = await pool.query('SELECT key, value FROM settings');
    expect(JSON.stringify(rows)).not.toContain(generated[0]!.generatedAdminToken);
    // A later start keeps both and prints nothing.
    const later = await loadSecrets(config, new SettingsRepository(pool));
    expect(later.secretKey).toBe(results[0]!.secretKey);
    expect(later.generatedAdminToken).toBeUndefined();
  });

  it('uses ADMIN_TOKEN and SECRET_KEY from the configuration when they are set', async () => {
    const config = loadConfig({
      env: {
        NODE_ENV: 'test',
        DATABASE_URL: testDatabaseUrl(dbName),
        ADMIN_TOKEN: 'chosen-admin-token-123456',
        SECRET_KEY: 'k'.repeat(40),
      },
    });
    const secrets = await loadSecrets(config, new SettingsRepository(pool));
    expect(secrets.secretKey).toBe('k'.repeat(40));
    expect(secrets.adminTokenHash.equals(hashToken('chosen-admin-token-123456'))).toBe(true);
    expect(secrets.generatedAdminToken).toBeUndefined();
  });
});

const extraPools: Pool[] = [];
function createPoolOnce(): Pool {
  const p = createPool(testDatabaseUrl(dbName), 1);
  extraPools.push(p);
  return p;
}
afterAll(async () => {
  await Promise.all(extraPools.map((p) => p.end()));
});
