import { z } from './common.js';

const humanMachine = z.object({
  unique: z.number().int().meta({ description: 'people: each recipient once, machines not' }),
  machine: z.number().int().meta({ description: 'proxies, scanners, prefetches (every event)' }),
});

export const reportSchema = z
  .object({
    sent: z.number().int(),
    bounced: z.object({ hard: z.number().int(), soft: z.number().int() }),
    complained: z.number().int(),
    unsubscribed: z.number().int(),
    opened: humanMachine,
    clicked: humanMachine,
    links: z.array(
      z.object({
        url: z.string(),
        clicks: z.number().int().meta({ description: 'human clicks' }),
        unique: z.number().int().meta({ description: 'recipients who clicked it' }),
      }),
    ),
    timeline: z.array(
      z.object({
        at: z
          .string()
          .meta({ description: 'start of the bucket: 10 minutes for 6 hours, then hours' }),
        sent: z.number().int(),
        opened: z.number().int(),
        clicked: z.number().int(),
        unsubscribed: z.number().int(),
        bounced: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'CampaignReport' });
