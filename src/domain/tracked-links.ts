// Click and open tracking at compile time (docs/engagement.md): each distinct http(s) link of a
// campaign's HTML becomes a Liquid output naming its index, so the per-recipient work is only
// the signed token, and the open pixel is placed before </body>. Links that are Liquid (the
// unsubscribe, preferences and archive links), mailto:, tel: and anchors are left alone, as
// are literal links to the subscriber pages of this site.

/** The HTML with tracked links, and the original URLs by index (the only redirect targets). */
export interface TrackedHtml {
  html: string;
  links: string[];
}

const ANCHOR_HREF = /(<a\b[^>]*?\shref\s*=\s*)(["'])(.*?)\2/gis;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The URL an attribute value stands for: HTML character references decoded. */
export function attributeValue(raw: string): string {
  return raw.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code =
        ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff
        ? String.fromCodePoint(code)
        : whole;
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** The subscriber pages of this site: never tracked (they carry the subscriber's own token). */
const OWN_PAGES = [
  '/unsubscribe/',
  '/preferences/',
  '/confirm/',
  '/view/',
  '/archive',
  '/l/',
  '/o/',
];

export function isTrackable(url: string, publicUrl: string): boolean {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) return false;
  if (url.startsWith(publicUrl)) {
    const path = url.slice(publicUrl.length);
    if (OWN_PAGES.some((p) => path.startsWith(p))) return false;
  }
  return true;
}

/**
 * A link as a Location header may carry it: ASCII only (spaces and other characters
 * percent-encoded, the host in punycode), as a browser would request it anyway.
 */
export function locationOf(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return encodeURI(url);
  }
}

export function trackLinks(html: string, publicUrl: string): TrackedHtml {
  const links: string[] = [];
  const index = new Map<string, number>();
  const out = html.replace(ANCHOR_HREF, (whole, start: string, quote: string, raw: string) => {
    if (raw.includes('{{') || raw.includes('{%')) return whole;
    const url = attributeValue(raw.trim());
    if (!isTrackable(url, publicUrl)) return whole;
    let i = index.get(url);
    if (i === undefined) {
      i = links.length;
      links.push(url);
      index.set(url, i);
    }
    return `${start}${quote}{{ tracked_links[${i}] }}${quote}`;
  });
  return { html: out, links };
}

export const OPEN_PIXEL =
  '<img src="{{ open_pixel_url }}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0" />';

/** The open pixel, last in the body. */
export function addOpenPixel(html: string): string {
  const end = html.toLowerCase().lastIndexOf('</body>');
  return end < 0 ? html + OPEN_PIXEL : html.slice(0, end) + OPEN_PIXEL + html.slice(end);
}
