import { notFound } from '../domain/errors.js';
import { generateApiToken, hashesEqual, hashToken } from '../domain/tokens.js';
import type { TokenRow, TokensRepository } from '../db/repositories/tokens.repository.js';

export interface Principal {
  /** null for the bootstrap admin token. */
  tokenId: number | null;
  scopes: string[];
}

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
    if (hashesEqual(hash, this.adminTokenHash)) return { tokenId: null, scopes: ['admin'] };
    const row = await this.tokens.findActiveByHash(hash);
    return row ? { tokenId: row.id, scopes: row.scopes } : undefined;
  }
}
