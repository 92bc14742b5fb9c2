// Per-recipient rendering for the MIME composer: the HTML part built from pre-encoded static
// runs and rendered Liquid runs decodes to exactly what a whole-template render gives.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { composeMessage } from '../../src/mail/mime.js';
import { compileMessage, Personalizer } from '../../src/mail/render.js';
import { sampleMergeVars } from '../../src/mail/samples.js';
import type { MergeVars } from '../../src/mail/types.js';
import { packageRoot } from '../../src/lib/paths.js';

const root = packageRoot();
const newsletter = readFileSync(path.join(root, 'templates', 'newsletter.mjml'), 'utf8');
const content = readFileSync(
  path.join(root, 'templates', 'samples', 'quarterly-content.md'),
  'utf8',
);

function vars(name: string, extra: Partial<MergeVars['subscriber']> = {}): MergeVars {
  const v = sampleMergeVars('https://news.example.org');
  v.subscriber = { ...v.subscriber, name, ...extra };
  v.campaign.data = { title: 'Quarterly <Newsletter>', period: '2027 — 2nd quarter' };
  return v;
}

async function htmlOf(personalizer: Personalizer, v: MergeVars): Promise<string> {
  const rendered = personalizer.renderForMime(v);
  const { raw } = composeMessage({
    from: { address: 'news@example.org' },
    to: { address: 'reader@example.org' },
    subject: rendered.subject,
    html: '',
    htmlEncoded: rendered.htmlEncoded,
    text: rendered.text,
    messageId: '<m@example.org>',
    oneClick: false,
    bulk: false,
  });
  for (const line of raw.toString('latin1').split('\r\n'))
    expect(line.length).toBeLessThanOrEqual(76 + 2);
  return (await PostalMime.parse(raw)).html ?? '';
}

describe('renderForMime', () => {
  it('the quarterly newsletter decodes to the whole-template render, for hostile names too', async () => {
    const compiled = await compileMessage({
      mjml: newsletter,
      content,
      contentType: 'markdown',
      subject: '{{ campaign.data.title }}',
    });
    const personalizer = new Personalizer(compiled);
    for (const v of [
      vars('Ada Lovelace'),
      vars('<img src=x onerror=alert(1)> & "quotes" ='),
      vars('Zoë Ångström 🎉 ' + 'x'.repeat(300)),
    ]) {
      const expected = personalizer.render(v);
      const got = personalizer.renderForMime(v);
      expect(got.subject).toBe(expected.subject);
      expect(got.text).toBe(expected.text);
      expect((await htmlOf(personalizer, v)).trimEnd()).toBe(expected.html.trimEnd());
    }
  });

  it('assign, capture, loops and conditions across runs behave as in one render', async () => {
    const mjml = `<mjml><mj-body><mj-section><mj-column><mj-text>
      {% assign greeting = "Hello" %}{% capture who %}{{ subscriber.name | upcase }}{% endcapture %}
      <p>{{ greeting }}, {{ who }}!</p>
      {% if subscriber.attributes.vip %}<p>VIP = yes</p>{% else %}<p>regular</p>{% endif %}
      <ul>{% for i in (1..3) %}<li>{{ i }}</li>{% endfor %}</ul>
      <a href="{{ unsubscribe_url }}">Unsubscribe</a>
    </mj-text></mj-column></mj-section></mj-body></mjml>`;
    const compiled = await compileMessage({
      mjml,
      content: '',
      contentType: 'markdown',
      subject: 'S',
    });
    const personalizer = new Personalizer(compiled);
    for (const v of [vars('ada', { attributes: { vip: true } }), vars('bob')]) {
      const html = await htmlOf(personalizer, v);
      expect(html.trimEnd()).toBe(personalizer.render(v).html.trimEnd());
    }
    expect(await htmlOf(personalizer, vars('ada', { attributes: { vip: true } }))).toContain(
      'VIP = yes',
    );
  });
});
