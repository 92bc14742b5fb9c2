import { SCOPES, TOKEN_SCOPES } from '../../domain/scopes.js';
import { plainText, z } from './common.js';

export const tokenCreate = z
  .strictObject({
    name: plainText(200).pipe(z.string().trim().min(1, { error: 'is required' })),
    scopes: z
      .array(
        z.enum(TOKEN_SCOPES, {
          error: `must be one of ${TOKEN_SCOPES.join(', ')} (approving is for people)`,
        }),
      )
      .min(1, { error: 'name at least one scope' }),
  })
  .meta({ id: 'TokenCreate' });

export const tokenSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: z.string().datetime(),
    lastUsedAt: z.string().datetime().nullable(),
    revokedAt: z.string().datetime().nullable(),
  })
  .meta({ id: 'Token' });

export const tokenCreated = tokenSchema
  .extend({ token: z.string().meta({ description: 'shown once; store it now' }) })
  .meta({ id: 'TokenCreated' });
