// Unsubscribe links never expire, so rotating SECRET_KEY must keep old links working.
import { describe, expect, it } from 'vitest';
import { signLink, signingKey } from '../../src/domain/links.js';
import { contextSuite } from '../helpers/suite.js';
import { createList, seedSubscribers, subscribe } from '../helpers/campaigns.js';

const OLD = 'old-secret-key-0123456789abcdef0123456789';
const ctx = contextSuite({ SECRET_KEY_PREVIOUS: OLD });

describe('rotating SECRET_KEY', () => {
  it('still honours an unsubscribe link signed with a previous key, and signs only with the new one', async () => {
    const list = await createList(ctx, 'Rotation');
    const [id] = await seedSubscribers(ctx, 'rot', 1, 'rotation.test');
    await subscribe(ctx, list, [id!]);
    const { rows } = await ctx.db.query<{ uuid: string }>(
      'SELECT uuid FROM subscribers WHERE id = $1',
      [id],
    );
    const oldLink = signLink(signingKey(OLD), {
      purpose: 'unsubscribe',
      subscriberUuid: rows[0]!.uuid,
    });
    const res = await ctx.http
      .post(`/unsubscribe/${oldLink}`)
      .type('form')
      .send('List-Unsubscribe=One-Click');
    expect(res.status).toBe(200);
    const sub = await ctx.db.query('SELECT status FROM subscriptions WHERE subscriber_id = $1', [
      id,
    ]);
    expect(sub.rows[0].status).toBe('unsubscribed');
    expect(ctx.container.signingKeys[0]!.id).toBe(signingKey(ctx.config.secretKey!).id);
    expect(ctx.container.signingKeys.map((k) => k.id)).toContain(signingKey(OLD).id);
    // A key that was never configured is refused like any forgery.
    const stranger = signLink(signingKey('z'.repeat(40)), {
      purpose: 'unsubscribe',
      subscriberUuid: rows[0]!.uuid,
    });
    expect((await ctx.http.get(`/unsubscribe/${stranger}`)).status).toBe(404);
  });
});
