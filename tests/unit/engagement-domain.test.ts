// The engagement rules without I/O: tracking tokens, link rewriting at compile time and the
// person-or-machine decision (docs/engagement.md).
import { describe, expect, it } from 'vitest';
import { signingKey } from '../../src/domain/links.js';
import { signTracking, verifyTracking } from '../../src/domain/tracking-tokens.js';
import { addOpenPixel, OPEN_PIXEL, trackLinks } from '../../src/domain/tracked-links.js';
import { isBurst, machineReason } from '../../src/domain/machine-traffic.js';
import { slugify } from '../../src/domain/campaign-input.js';

const key = signingKey('a-test-secret-of-enough-length-0123456789');
const other = signingKey('another-secret-of-enough-length-9876543210');
const PUBLIC = 'https://news.example.org';

describe('tracking tokens', () => {
  it('name the delivery and the link, and verify only for their own purpose and key', () => {
    const click = signTracking(key, { purpose: 'click', id: 123456789, link: 3 });
    expect(verifyTracking([key], click, 'click')).toEqual({
      purpose: 'click',
      id: 123456789,
      link: 3,
    });
    expect(verifyTracking([key], click, 'open')).toBeUndefined();
    expect(verifyTracking([other], click, 'click')).toBeUndefined();
    const open = signTracking(key, { purpose: 'open', id: 42 });
    expect(verifyTracking([other, key], open, 'open')).toEqual({ purpose: 'open', id: 42 });
    expect(verifyTracking([key], open, 'view')).toBeUndefined();
  });

  it('refuse any change of a character, a trailing extra and a foreign alphabet', () => {
    const token = signTracking(key, { purpose: 'click', id: 7, link: 0 });
    for (let i = 7; i < token.length; i++) {
      const c = token[i] === 'A' ? 'B' : 'A';
      expect(
        verifyTracking([key], token.slice(0, i) + c + token.slice(i + 1), 'click'),
      ).toBeUndefined();
    }
    expect(verifyTracking([key], `${token}x`, 'click')).toBeUndefined();
    expect(verifyTracking([key], `${token}=`, 'click')).toBeUndefined();
  });
});

describe('tracked links', () => {
  const html = [
    '<a href="https://example.org/a?x=1&amp;y=2">A</a>',
    "<a class='b' href='https://example.org/b'>B</a>",
    '<a href="https://example.org/a?x=1&amp;y=2">A again</a>',
    '<a href="{{ unsubscribe_url }}">Unsubscribe</a>',
    '<a href="mailto:desk@example.org">Mail</a> <a href="#top">Top</a> <a href="tel:+41">Call</a>',
    `<a href="${PUBLIC}/archive/spring">Archive</a> <a href="${PUBLIC}/about">About</a>`,
  ].join('\n');

  it('rewrite each distinct http(s) link once, decoded, and leave the rest alone', () => {
    const out = trackLinks(html, PUBLIC);
    expect(out.links).toEqual([
      'https://example.org/a?x=1&y=2',
      'https://example.org/b',
      `${PUBLIC}/about`,
    ]);
    expect(out.html).toContain('<a href="{{ tracked_links[0] }}">A</a>');
    expect(out.html).toContain("<a class='b' href='{{ tracked_links[1] }}'>B</a>");
    expect(out.html).toContain('<a href="{{ tracked_links[0] }}">A again</a>');
    expect(out.html).toContain('<a href="{{ unsubscribe_url }}">');
    expect(out.html).toContain('href="mailto:desk@example.org"');
    expect(out.html).toContain(`href="${PUBLIC}/archive/spring"`);
  });

  it('put the pixel last in the body', () => {
    expect(addOpenPixel('<body><p>x</p></body>')).toBe(`<body><p>x</p>${OPEN_PIXEL}</body>`);
  });
});

describe('person or machine', () => {
  const at = new Date('2027-03-01T10:00:00Z');
  const browser =
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15';
  const hit = (over: Partial<Parameters<typeof machineReason>[0]>) =>
    machineReason({
      kind: 'click',
      method: 'GET',
      userAgent: browser,
      sentAt: new Date(at.getTime() - 3_600_000),
      at,
      ...over,
    });

  it('tells HEAD, no agent, proxies, crawlers and delivery-time opens from people', () => {
    expect(hit({})).toBeUndefined();
    expect(hit({ method: 'HEAD' })).toBe('head');
    expect(hit({ userAgent: undefined })).toBe('no-user-agent');
    expect(hit({ userAgent: 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)' })).toBe('mail-proxy');
    expect(hit({ userAgent: 'Mozilla/5.0 (compatible; bingbot/2.0)' })).toBe('bot');
    expect(hit({ kind: 'open', sentAt: new Date(at.getTime() - 5000) })).toBe('early-open');
    expect(hit({ kind: 'open', sentAt: new Date(at.getTime() - 15000) })).toBeUndefined();
    expect(hit({ kind: 'click', sentAt: new Date(at.getTime() - 5000) })).toBeUndefined();
  });

  it('calls a burst only when every link of a message of two or more was followed', () => {
    expect(isBurst(1, new Set([0]))).toBe(false);
    expect(isBurst(3, new Set([0, 2]))).toBe(false);
    expect(isBurst(3, new Set([0, 1, 2]))).toBe(true);
  });
});

describe('archive slugs', () => {
  it('are made from the name: lower-case ASCII words and hyphens', () => {
    expect(slugify('Quarterly Newsletter — Spring 2027!')).toBe('quarterly-newsletter-spring-2027');
    expect(slugify('Zürich & Genève')).toBe('zurich-geneve');
    expect(slugify('!!!')).toBe('newsletter');
  });
});
