import { notFound } from '../domain/errors.js';
import type { Principal } from './principal.js';
import { generateApiToken, hashesEqual, hashToken } from '../domain/tokens.js';
import type { TokenRow, TokensRepository } from '../db/repositories/tokens.repository.js';

export type { Principal };

/** The bootstrap token of ADMIN_TOKEN, as the audit log names it. */
export const BOOTSTRAP_TOKEN_NAME = 'ADMIN_TOKEN';

export class TokensService {
  constructor(
    private readonly tokens: TokensRepository,
    private readonly adminTokenHash: Buffer,
  ) {}

  async create(name: string, scopes: string[]): Promise<TokenRow & { token: string }> {
    const { token, hash, prefix } = generateApiToken();
    const row = await this.tokens.create(name, hash, prefix, [...new Set(scopes)]);
    return { ...row, token };
  }

  page(after: number | undefined, limit: number): Promise<TokenRow[]> {
    return this.tokens.page(after, limit);
  }

  async revoke(id: number): Promise<void> {
    if (!(await this.tokens.revoke(id))) throw notFound('Token', id);
  }

  /** The principal a bearer token stands for, or undefined when it is unknown or revoked. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const hash = hashToken(token);
    if (hashesEqual(hash, this.adminTokenHash)) {
      return { scopes: ['admin'], actor: { type: 'token', id: null, name: BOOTSTRAP_TOKEN_NAME } };
    }
    const row = await this.tokens.findActiveByHash(hash);
    return row
      ? { scopes: row.scopes, actor: { type: 'token', id: row.id, name: row.name } }
      : undefined;
  }
}
