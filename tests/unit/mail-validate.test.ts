import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateTemplateSource } from '../../src/mail/render.js';

const root = path.resolve(import.meta.dirname, '../..');

/** Lines 1-2 open the document; the given lines start at line 3. */
const doc = (...lines: string[]) =>
  ['<mjml>', '<mj-body>', ...lines, '</mj-body>', '</mjml>'].join('\n');

const messages = (mjml: string) => validateTemplateSource(mjml).errors.map((e) => e.message);

describe('validateTemplateSource', () => {
  it('accepts the shipped templates', () => {
    for (const file of ['newsletter.mjml', 'confirmation.mjml']) {
      const result = validateTemplateSource(
        readFileSync(path.join(root, 'templates', file), 'utf8'),
      );
      expect(result.errors, file).toEqual([]);
    }
  });

  it('accepts Liquid inside text and attribute values', () => {
    const result = validateTemplateSource(
      doc(
        '<mj-section>',
        '  <mj-column>',
        '    <mj-text>{% if subscriber.name %}Dear {{ subscriber.name }},{% else %}Hello,{% endif %}</mj-text>',
        '    <mj-button href="{% if campaign.data.url %}{{ campaign.data.url }}{% else %}{{ archive_url }}{% endif %}">Read</mj-button>',
        '    <mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>',
        '  </mj-column>',
        '</mj-section>',
        '{{ content }}',
      ),
    );
    expect(result).toEqual({ errors: [], warnings: [] });
  });

  it('reports MJML errors with line numbers and the tag', () => {
    const result = validateTemplateSource(
      doc(
        '<mj-section>',
        '  <mj-text>text outside a column</mj-text>',
        '  <mj-column><mj-image src="a.png" colour="red" /></mj-column>',
        '</mj-section>',
      ),
    );
    expect(result.errors).toEqual([
      {
        path: 'mjml',
        message:
          'line 4: mj-text cannot be used inside mj-section, only inside: mj-attributes, mj-column, mj-hero (mj-text)',
      },
      { path: 'mjml', message: 'line 5: Attribute colour is illegal (mj-image)' },
    ]);
  });

  it('reports unknown elements and tags left open', () => {
    expect(messages(doc('<mj-section>', '<mj-colum></mj-colum>', '</mj-section>'))).toContain(
      "line 4: Element mj-colum doesn't exist or is not registered (mj-colum)",
    );
    expect(messages(doc('<mj-section>', '<mj-column>', '</mj-section>'))).toEqual([
      'line 4: <mj-column> is not closed before </mj-section> (mj-column)',
    ]);
    // mj-text swallows everything up to its end tag, like MJML's own parser does.
    expect(
      messages(
        doc('<mj-section>', '<mj-column>', '<mj-text>unclosed', '</mj-column>', '</mj-section>'),
      ),
    ).toEqual(['line 5: <mj-text> is not closed (mj-text)']);
    expect(messages(doc('</mj-section>'))).toEqual([
      'line 3: </mj-section> closes a tag that is not open (mj-section)',
    ]);
  });

  it('refuses what is not an MJML document', () => {
    expect(messages('<html><body>hello</body></html>')[0]).toMatch(/^line 1: not a valid MJML/);
    expect(messages('<mjml><mj-head></mj-head></mjml>')[0]).toMatch(/no <mj-body>/);
    expect(messages('   ')).toEqual(['line 1: the template is empty (mjml)']);
  });

  it('refuses Liquid control flow around MJML tags, naming both lines', () => {
    const errors = messages(
      doc(
        '{% if subscriber.attributes.member %}',
        '<mj-section><mj-column><mj-text>Members only</mj-text></mj-column></mj-section>',
        '{% endif %}',
      ),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^line 4: <mj-section> is inside \{% if %\} \(line 3\): Liquid control flow must stay inside text .* \(mj-section\)$/,
    );
  });

  it.each([
    ['for', '{% for x in campaign.data.items %}', '{% endfor %}'],
    ['unless', '{% unless subscriber.name %}', '{% endunless %}'],
    ['case', '{% case subscriber.attributes.lang %}{% when "fr" %}', '{% endcase %}'],
    ['capture', '{% capture block %}', '{% endcapture %}'],
  ])('refuses {%% %s %%} around MJML tags too', (name, open, close) => {
    const errors = messages(
      doc(
        '<mj-section>',
        open,
        '<mj-column><mj-text>x</mj-text></mj-column>',
        close,
        '</mj-section>',
      ),
    );
    expect(errors).toEqual([expect.stringContaining(`is inside {% ${name} %} (line 4)`)]);
  });

  it('refuses a block opened in one mj-text and closed in another', () => {
    const errors = messages(
      doc(
        '<mj-section><mj-column>',
        '<mj-text>{% if subscriber.name %}Hi</mj-text>',
        '<mj-text>there{% endif %}</mj-text>',
        '</mj-column></mj-section>',
      ),
    );
    expect(errors).toEqual([expect.stringMatching(/^line 4: <\/mj-text> is inside \{% if %\}/)]);
  });

  it('refuses include, render, layout and mj-include with their lines', () => {
    const errors = messages(
      doc(
        '<mj-include path="./header.mjml" />',
        '<mj-section><mj-column>',
        '<mj-text>{% include "footer" %}</mj-text>',
        '<mj-text>{% render "x" %}</mj-text>',
        '</mj-column></mj-section>',
      ),
    );
    expect(errors).toEqual([
      'line 3: mj-include is not supported: a template must be self-contained (mj-include)',
      'line 5: {% include %} is not allowed: a template cannot load other files (liquid)',
      'line 6: {% render %} is not allowed: a template cannot load other files (liquid)',
    ]);
  });

  it('reports Liquid syntax errors with their line', () => {
    const errors = messages(
      doc(
        '<mj-section><mj-column>',
        '<mj-text>{{ subscriber.name | }}{% endif %}</mj-text>',
        '</mj-column></mj-section>',
      ),
    );
    expect(errors).toEqual([expect.stringMatching(/^line 4: .*endif.*\(liquid\)$/)]);
  });

  it('warns, without refusing, about merge tags MJML cannot check and tags it would drop', () => {
    const result = validateTemplateSource(
      doc(
        '<mj-section background-color="{{ campaign.data.colour }}">',
        '<mj-column>{{ subscriber.name }}<mj-text><a href="{{ unsubscribe_url }}">u</a></mj-text></mj-column>',
        '</mj-section>',
        '{{ content }}',
      ),
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^line 3: Attribute background-color has invalid value.*only checked once rendered/,
      ),
      expect.stringMatching(/^line 4: \{\{ subscriber\.name \}\} sits between MJML tags/),
    ]);
  });

  it('warns when there is no content slot or no unsubscribe link', () => {
    const result = validateTemplateSource(
      doc('<mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section>'),
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringContaining('no {{ content }}'),
      expect.stringContaining('neither {{ unsubscribe_url }} nor {{ preferences_url }}'),
    ]);
  });

  it('ignores MJML tags and merge tags inside comments', () => {
    const result = validateTemplateSource(
      doc(
        '<!-- {{ content }} goes below; <mj-section> is only mentioned here -->',
        '{{ content }}',
        '<mj-section><mj-column><mj-text>{{ preferences_url }}</mj-text></mj-column></mj-section>',
      ),
    );
    expect(result).toEqual({ errors: [], warnings: [] });
  });
});
