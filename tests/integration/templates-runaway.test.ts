// Templates that run away (docs/templates.md, render limits): a Liquid loop that hits the
// render limit is the template's fault, a 422 with the reason wherever it shows (preview, test
// send), and the preflight reports it, since every recipient of such a campaign would fail.
import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';

const ctx = contextSuite();

/** Twenty-five million iterations: far past the render limit, however fast the machine. */
const RUNAWAY = '{% for a in (1..5000) %}{% for b in (1..5000) %}.{% endfor %}{% endfor %}';
/** Loops as long as the campaign's data says: harmless in the template, deadly with big data. */
const DATA_LOOP =
  '{% for a in (1..campaign.data.n) %}{% for b in (1..campaign.data.n) %}.{% endfor %}{% endfor %}';

const template = async (mjml: string) => {
  const res = await ctx.api().post('/api/v1/templates').send({ name: 'loop', mjml });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as number;
};

describe('a render that hits its limit', () => {
  it('is a 422 in the preview, naming the limit', async () => {
    const id = await template(
      fixtures.MINIMAL_MJML.replace('{{ content }}', `<mj-text>${RUNAWAY}</mj-text>{{ content }}`),
    );
    const res = await ctx.api().post(`/api/v1/templates/${id}/preview`).send({});
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('unprocessable');
    expect(res.body.detail).toMatch(/^The template cannot be rendered: .*limit/);
    expect(res.body.errors[0]).toMatchObject({ path: 'template' });
  });

  it('is a 422 for a test send, and nothing is sent', async () => {
    const list = await fixtures.createList(ctx, 'Loops');
    const id = await template(
      fixtures.MINIMAL_MJML.replace(
        '{{ content }}',
        `<mj-text>${DATA_LOOP}</mj-text>{{ content }}`,
      ),
    );
    const campaign = await fixtures.createCampaign(ctx, {
      templateId: id,
      listIds: [list],
      data: { n: 5000 },
    });
    const res = await ctx
      .api()
      .post(`/api/v1/campaigns/${campaign.id}/test`)
      .send({ emails: ['t@example.test'] });
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/limit/);
  });

  it('makes the preflight fail with the reason; with small data the same template passes', async () => {
    const list = await fixtures.createList(ctx, 'Preflight loops');
    await fixtures.subscribe(ctx, list, await fixtures.seedSubscribers(ctx, 'loop', 3));
    const id = await template(
      fixtures.MINIMAL_MJML.replace(
        '{{ content }}',
        `<mj-text>${DATA_LOOP}</mj-text>{{ content }}`,
      ),
    );
    const big = await fixtures.createCampaign(ctx, {
      templateId: id,
      listIds: [list],
      data: { n: 5000 },
    });
    const bad = (await ctx.api().get(`/api/v1/campaigns/${big.id}/preflight`)).body;
    expect(bad.ok).toBe(false);
    expect(bad.renderError).toMatch(/limit/);
    expect(bad.problems).toContainEqual(
      expect.stringMatching(/^every message would fail: .*limit/),
    );

    const small = await fixtures.createCampaign(ctx, {
      templateId: id,
      listIds: [list],
      data: { n: 3 },
    });
    const good = (await ctx.api().get(`/api/v1/campaigns/${small.id}/preflight`)).body;
    expect(good).toMatchObject({ ok: true, renderError: null, audience: 3 });
    // http://localhost here: the send may go, but the preflight says what it costs.
    expect(good.warnings).toEqual([expect.stringMatching(/is not https: .*one-click/)]);
  });
});
