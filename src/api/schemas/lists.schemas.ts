import { identity, multilineText, plainText, z } from './common.js';

export const listCreate = z
  .strictObject({
    name: plainText(200).pipe(z.string().trim().min(1, { error: 'is required' })),
    description: multilineText(2000).optional(),
    optin: z.enum(['single', 'double']).optional(),
    visibility: z.enum(['public', 'private']).optional(),
  })
  .meta({ id: 'ListCreate' });

export const listPatch = listCreate.partial().meta({ id: 'ListPatch' });

export const listSchema = z
  .object({
    ...identity,
    name: z.string(),
    description: z.string(),
    optin: z.enum(['single', 'double']),
    visibility: z.enum(['public', 'private']),
    subscriberCounts: z.object({
      unconfirmed: z.number().int(),
      confirmed: z.number().int(),
      unsubscribed: z.number().int(),
    }),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .meta({ id: 'List' });
