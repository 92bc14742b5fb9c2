// Conversions that must not damage merge tags: Markdown → HTML for the campaign content, and
// compiled HTML → the plain-text template. Both tools would otherwise escape quotes inside
// `{{ "x" }}`, percent-encode tags in link targets, upper-case headings or wrap a tag across
// two lines. So every Liquid token is swapped for an inert marker first and put back after.
import { randomInt } from 'node:crypto';
import { convert } from 'html-to-text';
import MarkdownIt from 'markdown-it';

const LIQUID = /\{%-?[\s\S]*?-?%\}|\{\{-?[\s\S]*?-?\}\}/g;
// ⟦ and ⟧ survive markdown-it and html-to-text untouched (or percent-encoded in a URL).
const OPEN = '\u27e6';
const CLOSE = '\u27e7';

export function protectLiquid(source: string): {
  text: string;
  restore: (output: string) => string;
} {
  const nonce = String(randomInt(100_000, 1_000_000));
  const tokens: string[] = [];
  const seen = new Map<string, number>();
  // The same tag gets the same marker, so html-to-text still sees that a link's text is its
  // address (`<a href="mailto:{{ e }}">{{ e }}</a>`) and prints it once.
  const text = source.replace(LIQUID, (token) => {
    let index = seen.get(token);
    if (index === undefined) {
      index = tokens.push(token) - 1;
      seen.set(token, index);
    }
    return `${OPEN}${nonce}.${index}${CLOSE}`;
  });
  const marker = new RegExp(`(?:${OPEN}|%E2%9F%A6)${nonce}\\.(\\d+)(?:${CLOSE}|%E2%9F%A7)`, 'gi');
  return {
    text,
    restore: (output) => output.replace(marker, (m, i: string) => tokens[Number(i)] ?? m),
  };
}

// html: false — raw HTML in the content is shown as text, never passed into the message.
const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false, xhtmlOut: true });

/** Campaign content written in Markdown → HTML for an <mj-text>, merge tags intact. */
export function markdownToHtml(source: string): string {
  const { text, restore } = protectLiquid(source);
  return restore(markdown.render(text)).trim();
}

/**
 * The plain-text template of a compiled HTML message. Generated once per campaign; the merge
 * tags stay in it and are rendered per recipient like the HTML.
 */
export function htmlToTextTemplate(html: string): string {
  const { text, restore } = protectLiquid(html);
  const plain = convert(text, {
    wordwrap: 78,
    selectors: [
      // The preheader (mj-preview) is hidden in HTML; in text it would read as stray words.
      { selector: 'div[style*="display:none"]', format: 'skip' },
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, noAnchorUrl: true } },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'table', format: 'block' },
      { selector: 'tr', format: 'block' },
      { selector: 'td', format: 'block' },
    ],
  });
  return restore(plain).trim() + '\n';
}
