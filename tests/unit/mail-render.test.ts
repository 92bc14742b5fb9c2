import { readFileSync } from 'node:fs';
import path from 'node:path';
import mjml2html from 'mjml';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { MJML_OPTIONS } from '../../src/mail/compile.js';
import {
  compileMessage,
  hasUnsubscribeLink,
  Personalizer,
  RenderTimeout,
  unknownVariables,
  type CompiledMessage,
  type MergeVars,
} from '../../src/mail/render.js';

const root = path.resolve(import.meta.dirname, '../..');
const newsletter = readFileSync(path.join(root, 'templates/newsletter.mjml'), 'utf8');
const confirmation = readFileSync(path.join(root, 'templates/confirmation.mjml'), 'utf8');
const quarterly = readFileSync(path.join(root, 'templates/samples/quarterly-content.md'), 'utf8');

const vars = (over: Partial<MergeVars> = {}): MergeVars => ({
  subscriber: {
    email: 'ada@example.org',
    name: 'Ada',
    uuid: '11111111-1111-4111-8111-111111111111',
    attributes: { city: 'Geneva' },
  },
  campaign: {
    name: 'Q2 newsletter',
    subject: 'Quarterly newsletter',
    uuid: '22222222-2222-4222-8222-222222222222',
    data: { period: '2017 — 1st quarter', contactEmail: 'info@example.org' },
  },
  list: { name: 'Quarterly readers' },
  unsubscribe_url: 'https://news.example.org/unsubscribe/TOKEN?x=1&y=2',
  preferences_url: 'https://news.example.org/preferences/TOKEN',
  ...over,
});

/** A minimal valid template around the given mj-column content. */
const wrap = (column: string, extra = '') =>
  `<mjml>\n<mj-body>\n${extra}<mj-section>\n<mj-column>\n${column}\n</mj-column>\n</mj-section>\n</mj-body>\n</mjml>`;

async function compileError(input: Parameters<typeof compileMessage>[0]) {
  const error = await compileMessage(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('unprocessable');
  return (error as AppError).details.errors ?? [];
}

describe('compiling the quarterly newsletter', () => {
  it('places the Markdown content in the layout and keeps every merge tag for later', async () => {
    const compiled = await compileMessage({
      mjml: newsletter,
      content: quarterly,
      subject: 'Quarterly newsletter — {{ campaign.data.period }}',
    });
    expect(compiled.warnings).toEqual([]);
    expect(compiled.html).toContain('Regional workshop on groundwater in the southern basin');
    expect(compiled.html).toMatch(/<strong[^>]*>14 to 16 October in Vienna<\/strong>/);
    expect(compiled.html).toContain('href="https://lakebasin.example.org/mop9"');
    expect(compiled.html).toContain('<blockquote');
    // Merge tags are still Liquid: personalisation happens per recipient.
    expect(compiled.html).toContain('{{ unsubscribe_url }}');
    expect(compiled.html).toContain('{{ preferences_url }}');
    expect(compiled.html).not.toContain('{{ content }}');
    expect(compiled.html).toMatch(/<html lang="en"/);
    expect(compiled.subject).toBe('Quarterly newsletter — {{ campaign.data.period }}');
    // The text part is generated once, from the compiled HTML, merge tags included.
    expect(compiled.text).toContain('Regional workshop on groundwater in the southern basin');
    expect(compiled.text).toContain('{{ unsubscribe_url }}');
    expect(compiled.text).not.toMatch(/<[a-z]/i);
    expect(JSON.parse(JSON.stringify(compiled))).toEqual(compiled);
    expect(unknownVariables(compiled)).toEqual([]);
    expect(hasUnsubscribeLink(compiled)).toBe(true);
  });

  it('renders a recipient: links, data and the footer address filled in, nothing left over', async () => {
    const compiled = await compileMessage({
      mjml: newsletter,
      content: quarterly,
      subject: 'Newsletter {{ campaign.data.period }}',
    });
    const out = new Personalizer(compiled).render(vars());
    expect(out.subject).toBe('Newsletter 2017 — 1st quarter');
    expect(out.html).toContain('href="https://news.example.org/unsubscribe/TOKEN?x=1&amp;y=2"');
    expect(out.html).toContain('2017 — 1st quarter');
    expect(out.html).toContain('ada@example.org');
    expect(out.html).not.toMatch(/\{\{|\{%/);
    expect(out.text).toContain('https://news.example.org/unsubscribe/TOKEN?x=1&y=2');
    expect(out.text).toContain('info@example.org');
    expect(out.text).not.toMatch(/\{\{|\{%/);
  });

  it('compiles the confirmation template and fills in the confirmation link', async () => {
    const compiled = await compileMessage({
      mjml: confirmation,
      subject: 'Confirm your subscription to {{ list.name }}',
    });
    expect(compiled.warnings).toEqual([]);
    expect(unknownVariables(compiled)).toEqual([]);
    const out = new Personalizer(compiled).render(
      vars({ confirm_url: 'https://news.example.org/confirm/abc' }),
    );
    expect(out.subject).toBe('Confirm your subscription to Quarterly readers');
    expect(out.html).toContain('href="https://news.example.org/confirm/abc"');
    expect(out.text).toContain('https://news.example.org/confirm/abc');
  });
});

describe('personalisation safety', () => {
  const template = wrap(
    '<mj-text>Hello {{ subscriber.name }} from {{ subscriber.attributes.city }}</mj-text>\n' +
      '<mj-button href="{{ unsubscribe_url }}">Unsubscribe</mj-button>',
  );

  it('escapes recipient data in the HTML part but not in the text part or subject', async () => {
    const compiled = await compileMessage({ mjml: template, subject: 'Hi {{ subscriber.name }}' });
    const attack = '<img src=x onerror=alert(1)>';
    const out = new Personalizer(compiled).render(
      vars({
        subscriber: { ...vars().subscriber, name: attack, attributes: { city: '"><script>' } },
      }),
    );
    expect(out.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(out.html).not.toContain('<img src=x');
    expect(out.html).not.toContain('<script>');
    expect(out.text).toContain(attack);
    expect(out.subject).toBe(`Hi ${attack}`);
  });

  it('strips line breaks from the rendered subject', async () => {
    const compiled = await compileMessage({ mjml: template, subject: '{{ subscriber.name }}' });
    const out = new Personalizer(compiled).render(
      vars({ subscriber: { ...vars().subscriber, name: 'Ada\r\nBcc: x@evil.test\n' } }),
    );
    expect(out.subject).toBe('Ada Bcc: x@evil.test');
  });

  it.each([
    '{{ subscriber.constructor }}',
    '{{ subscriber.__proto__ }}',
    '{{ subscriber.toString }}',
    '{{ subscriber.name.constructor }}',
    '{{ subscriber.attributes.constructor.constructor }}',
    '{{ subscriber["__proto__"] }}',
    '{{ campaign.data.hasOwnProperty }}',
    '{{ constructor }}',
    '{{ __proto__.polluted }}',
  ])('%s renders nothing', async (probe) => {
    const compiled = await compileMessage({
      mjml: wrap(`<mj-text>[${probe}]</mj-text>`),
      subject: `[${probe}]`,
    });
    const out = new Personalizer(compiled).render(vars());
    expect(out.subject).toBe('[]');
    expect(out.html).toContain('[]');
    expect(out.text).toContain('[]');
    expect(out.html).not.toMatch(/function|native code|\[object/);
  });

  it.each(['{{ "x" | constructor }}', '{{ subscriber.name | __proto__ }}', '{{ "x" | toString }}'])(
    'refuses %s: filters that do not exist are an error, never an object lookup',
    async (probe) => {
      const errors = await compileError({
        mjml: wrap(`<mj-text>${probe}</mj-text>`),
        subject: 's',
      });
      expect(errors[0]?.message).toMatch(/undefined filter/);
    },
  );

  it.each(['{% include "/etc/passwd" %}', '{% render "x" %}', '{% layout "x" %}'])(
    'refuses %s, which would read a file',
    async (tag) => {
      const errors = await compileError({ mjml: wrap(`<mj-text>${tag}</mj-text>`), subject: 's' });
      expect(errors[0]).toMatchObject({ path: 'mjml' });
      expect(errors[0]!.message).toMatch(/^line 5: \{% (include|render|layout) %\} is not allowed/);
      const inSubject = await compileError({ mjml: wrap('<mj-text>x</mj-text>'), subject: tag });
      expect(inSubject[0]).toMatchObject({ path: 'subject' });
    },
  );

  it('stops a runaway loop with a render limit instead of hanging the worker', async () => {
    const compiled = await compileMessage({
      mjml: wrap('<mj-text>{% for i in (1..100000000) %}{{ i }}{% endfor %}</mj-text>'),
      subject: 's',
    });
    expect(() => new Personalizer(compiled).render(vars())).toThrow(/limit/);
  });

  it('tells a render stopped by its time limit from the template’s other errors', async () => {
    // Loops that allocate little but take long: the time limit, not the memory one, stops them.
    const slow = await compileMessage({
      mjml: wrap(
        '<mj-text>{% for i in (1..300) %}{% for j in (1..300) %}{% for k in (1..300) %}{% endfor %}{% endfor %}{% endfor %}</mj-text>',
      ),
      subject: 's',
    });
    // The sender tries a timed-out render once more; it knows one by its class.
    expect(() => new Personalizer(slow).render(vars())).toThrow(RenderTimeout);
    const hungry = await compileMessage({
      mjml: wrap('<mj-text>{% for i in (1..100000000) %}{{ i }}{% endfor %}</mj-text>'),
      subject: 's',
    });
    expect(() => new Personalizer(hungry).render(vars())).toThrow(AppError);
    expect(() => new Personalizer(hungry).render(vars())).not.toThrow(RenderTimeout);
  });
});

describe('mj-include', () => {
  const include = wrap('<mj-text>x</mj-text>', '<mj-include path="/etc/passwd" type="html" />\n');

  it('is refused with its line number', async () => {
    const errors = await compileError({ mjml: include, subject: 's' });
    expect(errors).toContainEqual({
      path: 'mjml',
      message:
        'line 3: mj-include is not supported: a template must be self-contained (mj-include)',
    });
  });

  it('has no effect even where validation is skipped: the file is never read', async () => {
    const { html } = await mjml2html(include, MJML_OPTIONS);
    expect(html).not.toMatch(/root:|\/bin\/(ba)?sh|nologin/);
    expect(html).toContain('x');
  });

  it('is refused inside MJML content too, reported against the content', async () => {
    const errors = await compileError({
      mjml: `<mjml><mj-body>{{ content }}</mj-body></mjml>`,
      content:
        '<mj-section><mj-column><mj-text>a</mj-text></mj-column></mj-section>\n<mj-include path="../../etc/passwd" />',
      contentType: 'mjml',
      subject: 's',
    });
    expect(errors).toContainEqual({
      path: 'content',
      message:
        'line 2: mj-include is not supported: a template must be self-contained (mj-include)',
    });
  });
});

describe('content', () => {
  const layout = `<mjml>\n<mj-body>\n<mj-section><mj-column><mj-text>Head</mj-text></mj-column></mj-section>\n{{ content }}\n<mj-section><mj-column><mj-text><a href="{{ unsubscribe_url }}">u</a></mj-text></mj-column></mj-section>\n</mj-body>\n</mjml>`;

  it('keeps merge tags in Markdown working, including in link targets and quoted filters', async () => {
    const compiled = await compileMessage({
      mjml: layout,
      content: 'Dear {{ subscriber.name | default: "reader" }}, [read online]({{ archive_url }}).',
      subject: 's',
    });
    const out = new Personalizer(compiled).render(
      vars({ archive_url: 'https://news.example.org/archive/1' }),
    );
    expect(out.html).toContain(
      'Dear Ada, <a href="https://news.example.org/archive/1">read online</a>',
    );
  });

  it('shows raw HTML in Markdown as text, never as markup', async () => {
    const compiled = await compileMessage({
      mjml: layout,
      content: 'Hi <script>alert(1)</script> <img src=x onerror=alert(1)>',
      subject: 's',
    });
    expect(compiled.html).not.toContain('<script>');
    expect(compiled.html).toContain('&lt;script&gt;');
    expect(compiled.warnings).toContain(
      'content: HTML tags in Markdown content are shown as text, not as markup',
    );
  });

  it('inserts MJML content as written', async () => {
    const compiled = await compileMessage({
      mjml: layout,
      content:
        '<mj-section><mj-column><mj-button href="https://example.org/go">Go</mj-button></mj-column></mj-section>',
      contentType: 'mjml',
      subject: 's',
    });
    expect(compiled.html).toContain('href="https://example.org/go"');
  });

  it('reports a Liquid syntax error in the content with its line in the content', async () => {
    const errors = await compileError({
      mjml: layout,
      content: 'First line\n\n{% if subscriber.name %}unclosed',
      subject: 's',
    });
    expect(errors).toEqual([
      { path: 'content', message: expect.stringMatching(/^line 3: .*not closed.*\(liquid\)$/) },
    ]);
  });

  it('reports a broken subject on the subject', async () => {
    const errors = await compileError({ mjml: layout, subject: 'Hi {{ subscriber.name' });
    expect(errors[0]?.path).toBe('subject');
  });

  it('maps MJML errors after the content back to the template lines', async () => {
    const broken = layout.replace('</mj-body>', '<mj-text>stray</mj-text>\n</mj-body>');
    const errors = await compileError({
      mjml: broken,
      content: '<mj-section><mj-column>\n<mj-text>a</mj-text>\n\n</mj-column></mj-section>',
      contentType: 'mjml',
      subject: 's',
    });
    expect(errors).toEqual([
      {
        path: 'mjml',
        message: expect.stringMatching(
          /^line 6: mj-text cannot be used inside mj-body.*\(mj-text\)$/,
        ),
      },
    ]);
  });
});

describe('unknownVariables and hasUnsubscribeLink', () => {
  const compiled = (html: string, subject = 's', text = ''): CompiledMessage => ({
    subject,
    html,
    text,
    warnings: [],
  });

  it('reports only what MergeVars does not have', () => {
    const message = compiled(
      '{{ subscriber.name }} {{ subscriber.foo }} {{ subscriber.attributes.anything.deep }} ' +
        '{{ campaign.data.x }} {{ campaign.nope }} {{ list.name }} {{ list.id }} {{ archive_url }} ' +
        '{% assign local = campaign.data.y %}{{ local.z }} {% for a in subscriber.attributes.tags %}{{ a }}{% endfor %} ' +
        '{{ subscriber.name.size }} {{ content }}',
      '{{ mystery }}',
      '{{ unsubscribe_url }} {{ preferences_url.first }} {{ subscriber.email.bogus }}',
    );
    expect(unknownVariables(message)).toEqual(
      [
        'content',
        'list.id',
        'mystery',
        'campaign.nope',
        'subscriber.email.bogus',
        'subscriber.foo',
      ].sort(),
    );
  });

  it('knows whether an unsubscribe or preference link is there', () => {
    expect(hasUnsubscribeLink(compiled('<a href="{{ unsubscribe_url }}">u</a>'))).toBe(true);
    expect(hasUnsubscribeLink(compiled('x', 's', '{{ preferences_url }}'))).toBe(true);
    expect(hasUnsubscribeLink(compiled('<a href="https://example.org">u</a>'))).toBe(false);
    expect(hasUnsubscribeLink(compiled('unsubscribe_url', '{{ unsubscribe_url }}'))).toBe(false);
  });
});

describe('the inbox preview line', () => {
  it('is hidden without low-contrast text (SpamAssassin HTML_FONT_LOW_CONTRAST)', async () => {
    const compiled = await compileMessage({
      mjml: '<mjml><mj-head><mj-preview>In this issue: the new office</mj-preview></mj-head><mj-body><mj-section><mj-column><mj-text>{{ content }}<a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
      subject: 's',
    });
    const at = compiled.html.indexOf('In this issue: the new office');
    expect(at).toBeGreaterThan(0);
    const div = compiled.html.slice(compiled.html.lastIndexOf('<div', at), at);
    expect(div).toMatch(/display:none/);
    expect(div).toMatch(/mso-hide:all/);
    expect(div).not.toMatch(/color|font-size/);
  });
});
