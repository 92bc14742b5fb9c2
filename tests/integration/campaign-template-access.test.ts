// Templates and data that try to reach outside the message: Liquid reading files or the
// environment, and HTML in subscriber or campaign data (header injection: campaign-injection).
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { mailSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';
import { messagesOf } from '../helpers/fleet.js';
import { injectionTools } from '../helpers/injection.js';

const suite = mailSuite({ env: { SMTP_POOL_SIZE: '2' }, resetSink: true });
const { ctx, sink } = suite;

const { insertSubscribers, sendAndFinish } = injectionTools(ctx);

describe('file access from templates', () => {
  const INCLUDE_BODY = fixtures.MINIMAL_MJML.replace(
    '{{ content }}',
    '<mj-include path="/etc/passwd" />\n      {{ content }}',
  );
  const INCLUDE_HEAD = fixtures.MINIMAL_MJML.replace(
    '<mj-body>',
    '<mj-head><mj-include path="/etc/passwd" type="css" /></mj-head>\n  <mj-body>',
  );
  const INCLUDE_HTML = fixtures.MINIMAL_MJML.replace(
    '{{ content }}',
    '<mj-include path="/etc/passwd" type="html" />\n      {{ content }}',
  );

  it('a template with <mj-include> or {% include %} is refused when saved', async () => {
    const sources = {
      INCLUDE_BODY,
      INCLUDE_HEAD,
      INCLUDE_HTML,
      liquidInclude: fixtures.MINIMAL_MJML.replace('{{ content }}', "{% include '/etc/passwd' %}"),
      liquidRender: fixtures.MINIMAL_MJML.replace(
        'Hello',
        "Hello {% render '../../../../etc/passwd' %}",
      ),
    };
    for (const [label, mjml] of Object.entries(sources)) {
      const res = await ctx.api().post('/api/v1/templates').send({ name: label, mjml });
      expect(res.status, label).toBe(422);
      expect(JSON.stringify(res.body), label).not.toContain('root:');
      expect(res.body.errors?.[0]?.path, label).toBe('mjml');
    }
  });

  it('one already stored, or in the campaign content, is refused at send time or has no effect', async () => {
    const { list, emails } = await insertSubscribers([{ name: 'Reader' }]);
    const outputs: string[] = [];
    type Attempt = {
      templateId: number;
      content?: string;
      contentType?: 'markdown' | 'mjml';
      expect: 'refused' | 'sent';
    };
    const attempts: Attempt[] = [];
    for (const mjml of [INCLUDE_BODY, INCLUDE_HEAD, INCLUDE_HTML]) {
      attempts.push({ templateId: await fixtures.createTemplate(ctx, mjml), expect: 'refused' });
    }
    attempts.push({
      templateId: suite.templateId,
      content: '<mj-text>before</mj-text><mj-include path="/etc/passwd" /><mj-text>after</mj-text>',
      contentType: 'mjml',
      expect: 'refused',
    });
    attempts.push({
      templateId: suite.templateId,
      content: "Read {% include '/etc/passwd' %} this",
      expect: 'refused',
    });
    // Markdown that merely mentions the tag: shown as text, harmless, so it goes out.
    attempts.push({
      templateId: suite.templateId,
      content: '<mj-include path="/etc/passwd" />',
      expect: 'sent',
    });

    for (const { expect: expected, ...attempt } of attempts) {
      const campaign = await fixtures.createCampaign(ctx, { listIds: [list], ...attempt });
      const preflight = await ctx.api().get(`/api/v1/campaigns/${campaign.id}/preflight`);
      outputs.push(JSON.stringify(preflight.body));
      const preview = await ctx
        .api()
        .post(`/api/v1/templates/${attempt.templateId}/preview`)
        .send(
          attempt.content
            ? { content: attempt.content, contentType: attempt.contentType ?? 'markdown' }
            : {},
        );
      outputs.push(JSON.stringify(preview.body));
      const test = await ctx
        .api()
        .post(`/api/v1/campaigns/${campaign.id}/test`)
        .send({ emails: ['tester@example.test'] });
      outputs.push(JSON.stringify(test.body));
      const send = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`);
      outputs.push(JSON.stringify(send.body));
      if (expected === 'sent') {
        expect(send.status, JSON.stringify(attempt)).toBe(200);
        await waitFor(async () => (await fixtures.campaignStatus(ctx, campaign.id)) === 'finished');
      } else {
        expect(preflight.body.ok, JSON.stringify(attempt)).toBe(false);
        expect([test.status, send.status], JSON.stringify(attempt)).toEqual([422, 422]);
        expect(await fixtures.campaignStatus(ctx, campaign.id)).toBe('draft');
      }
    }
    outputs.push(...sink.messages.map((m) => m.raw));
    // A Markdown content that merely mentions mj-include went out, as text.
    expect(sink.messages.some((m) => emails.includes(m.to))).toBe(true);
    for (const output of outputs) expect(output).not.toMatch(/root:[^:]*:0:0:/);
  });
});

describe('HTML in data', () => {
  it('a subscriber named <img src=x onerror=alert(1)> is escaped in the HTML part', async () => {
    const mjml = fixtures.MINIMAL_MJML.replace(
      '{{ content }}',
      '<mj-image src="https://example.org/logo.png" alt="Logo for {{ subscriber.name }}" />\n      {{ content }}',
    );
    const template = await ctx.api().post('/api/v1/templates').send({ name: 'alt', mjml });
    expect(template.status, JSON.stringify(template.body)).toBe(201);
    const list = await fixtures.createList(ctx, 'Markup');
    const created = [];
    for (const [email, name, city] of [
      ['img@example.test', '<img src=x onerror=alert(1)>', 'Zug'],
      ['quote@example.test', 'x" onerror="alert(2)', '"><script>alert(3)</script>'],
    ]) {
      const res = await ctx
        .api()
        .post('/api/v1/subscribers')
        .send({ email, name, attributes: { city }, lists: [list] });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      created.push(res.body.id);
    }
    const campaign = await fixtures.createCampaign(ctx, {
      templateId: template.body.id,
      listIds: [list],
      subject: 'Hello {{ subscriber.name }}',
    });
    await sendAndFinish(campaign.id);
    const byTo = new Map(messagesOf(sink, campaign.uuid).map((m) => [m.to, m]));
    expect(byTo.size).toBe(2);

    const img = byTo.get('img@example.test')!;
    expect(img.html).toContain('Hello &lt;img src=x onerror=alert(1)&gt;');
    expect(img.html).not.toContain('<img src=x');
    expect(img.html).toMatch(/alt="Logo for &lt;img src=x onerror=alert\(1\)&gt;"/);
    // The subject and the text part are not HTML: there the name is as written.
    expect(img.subject).toBe('Hello <img src=x onerror=alert(1)>');

    const quote = byTo.get('quote@example.test')!;
    expect(quote.html).not.toContain('<script>');
    expect(quote.html).not.toMatch(/" onerror="alert/);
    expect(quote.html).toContain('&lt;script&gt;alert(3)&lt;/script&gt;');
    expect(quote.html).toMatch(/alt="Logo for x&#34; onerror=&#34;alert\(2\)"/);
  });
});
