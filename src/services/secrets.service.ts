// SECRET_KEY and the bootstrap admin token are generated on first start when unset, and kept in
// the database so every process (and every restart) agrees on them. The admin token is printed
// once by the process that generated it; only its hash is kept.
import { generateApiToken, generateSecretKey, hashToken } from '../domain/tokens.js';
import type { SettingsRepository } from '../db/repositories/settings.repository.js';
import type { Config } from '../config.js';

export interface Secrets {
  secretKey: string;
  /** SHA-256 of the bootstrap admin token. */
  adminTokenHash: Buffer;
  /** Set only in the process that generated the admin token, so it can print it once. */
  generatedAdminToken?: string;
}

export async function loadSecrets(config: Config, settings: SettingsRepository): Promise<Secrets> {
  const secretKey =
    config.secretKey ?? (await settings.getOrCreate('secret_key', generateSecretKey())).value;
  if (config.adminToken) {
    return { secretKey, adminTokenHash: hashToken(config.adminToken) };
  }
  const candidate = generateApiToken().token;
  const stored = await settings.getOrCreate(
    'admin_token_hash',
    hashToken(candidate).toString('hex'),
  );
  return {
    secretKey,
    adminTokenHash: Buffer.from(stored.value, 'hex'),
    ...(stored.created ? { generatedAdminToken: candidate } : {}),
  };
}
