import { attributes, identity, pageQuery, plainText, z } from './common.js';

export const subscriberStatus = z.enum(['active', 'bounced', 'complained', 'blocklisted']);
export const subscriptionStatus = z.enum(['unconfirmed', 'confirmed', 'unsubscribed']);
const listIds = z
  .array(z.number().int().positive())
  .max(1000)
  .meta({ example: [1] });

export const subscriberCreate = z
  .strictObject({
    email: z.string().max(320).meta({ example: 'ada@example.org' }),
    name: plainText(200).optional(),
    attributes: attributes.optional(),
    lists: listIds.optional(),
    status: subscriberStatus.optional(),
    preconfirm: z
      .boolean()
      .optional()
      .meta({ description: 'subscribe to double opt-in lists as confirmed' }),
  })
  .meta({ id: 'SubscriberCreate' });

export const subscriberPatch = z
  .strictObject({
    email: z.string().max(320).optional(),
    name: plainText(200).optional(),
    attributes: attributes.optional(),
    status: subscriberStatus.optional(),
  })
  .meta({ id: 'SubscriberPatch' });

export const subscriptionChange = z
  .strictObject({
    add: listIds.optional(),
    remove: listIds.optional(),
    status: subscriptionStatus.optional(),
  })
  .refine((v) => (v.add?.length ?? 0) + (v.remove?.length ?? 0) > 0, {
    error: 'name at least one list in add or remove',
    path: ['add'],
  })
  .meta({ id: 'SubscriptionChange' });

export const subscriberQuery = pageQuery.extend({
  list: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, { error: 'must be a list id' })
    .transform(Number)
    .optional()
    .meta({ type: 'integer' }),
  subscriptionStatus: subscriptionStatus.optional(),
  status: subscriberStatus.optional(),
  q: z.string().max(200).optional().meta({ description: 'part of the email or name' }),
});

export const subscriberSchema = z
  .object({
    ...identity,
    email: z.string(),
    name: z.string(),
    attributes: z.record(z.string(), z.unknown()),
    status: subscriberStatus,
    lists: z.array(
      z.object({
        id: z.number().int(),
        uuid: z.string().uuid(),
        name: z.string(),
        subscriptionStatus,
        createdAt: z.string().datetime(),
        updatedAt: z.string().datetime(),
      }),
    ),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .meta({ id: 'Subscriber' });
