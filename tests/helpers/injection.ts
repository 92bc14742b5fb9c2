// Hostile subscriber data for the injection tests: subscribers written straight into the table
// (past the API's checks, as old data or another tool would leave them), a send awaited to its
// end, and the check that no header or recipient was smuggled into what arrived.
import PostalMime from 'postal-mime';
import { expect } from 'vitest';
import * as fixtures from './campaigns.js';
import type { TestContext } from './context.js';
import type { ReceivedMessage } from './smtp-sink.js';

export const EVIL = 'evil@x.test';
export const BCC = `\r\nBcc: ${EVIL}`;

let seq = 0;

export function injectionTools(ctx: TestContext) {
  return {
    /** Subscribers inserted as they are, past the API's checks (old data, another tool, a bug). */
    insertSubscribers: async (
      people: { name: string; attributes?: Record<string, unknown> }[],
    ): Promise<{ list: number; emails: string[] }> => {
      seq++;
      const list = await fixtures.createList(ctx, `Hostile ${seq}`);
      const emails = people.map((_, i) => `h${seq}p${i}@example.test`);
      const { rows } = await ctx.db.query<{ id: number }>(
        `INSERT INTO subscribers (email, name, attributes)
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[]) RETURNING id`,
        [emails, people.map((p) => p.name), people.map((p) => JSON.stringify(p.attributes ?? {}))],
      );
      await fixtures.subscribe(
        ctx,
        list,
        rows.map((r) => r.id),
      );
      return { list, emails };
    },
    sendAndFinish: async (campaignId: number) => {
      const started = await ctx.api().post(`/api/v1/campaigns/${campaignId}/send`);
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      await fixtures.waitForCampaign(ctx, campaignId, 'finished', 30_000);
    },
  };
}

/** The header block as received, with folded lines joined: one entry per header field. */
export function headerFields(raw: string): string[] {
  const head = raw.slice(0, raw.search(/\r?\n\r?\n/));
  return head.split(/\r?\n(?![ \t])/).map((field) => field.replace(/\r?\n[ \t]+/g, ' '));
}

export function names(fields: string[]): string[] {
  return fields.map((f) => f.slice(0, f.indexOf(':')).toLowerCase());
}

export async function assertNoInjectedHeaders(messages: ReceivedMessage[], audience: string[]) {
  // Only the audience got anything, once each: no Bcc or extra envelope recipient.
  expect(messages.map((m) => m.to).sort()).toEqual([...audience].sort());
  for (const m of messages) {
    const fields = headerFields(m.raw);
    const fieldNames = names(fields);
    expect(fieldNames, m.to).not.toContain('bcc');
    expect(fieldNames, m.to).not.toContain('cc');
    expect(fieldNames, m.to).not.toContain('x-injected');
    for (const once of ['from', 'to', 'subject', 'message-id', 'reply-to', 'content-type']) {
      expect(fieldNames.filter((n) => n === once).length, `${once} in ${m.to}`).toBeLessThan(2);
    }
    const parsed = await PostalMime.parse(m.raw);
    expect(
      parsed.to?.map((a) => ('address' in a ? a.address : undefined)),
      m.to,
    ).toEqual([m.to]);
    expect(parsed.cc ?? [], m.to).toEqual([]);
    expect(parsed.bcc ?? [], m.to).toEqual([]);
    expect(parsed.from && 'address' in parsed.from ? parsed.from.address : '', m.to).toBe(
      'news@bulletin.test',
    );
    // Decoded as a mail client shows it: one line (see the encoded-word test below).
    expect(parsed.subject ?? '', m.to).not.toMatch(/[\r\n]/);
    // Nothing turned part of the body into a header of its own, and the structure held.
    expect(m.headers.get('content-type'), m.to).toMatch(/^multipart\/alternative/);
    expect(m.html, m.to).not.toContain('body takeover</html>');
  }
}
