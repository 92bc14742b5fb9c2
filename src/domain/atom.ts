// An Atom feed (RFC 4287) of the public archive: one entry per archived campaign, newest first.
// Written by hand: a handful of elements, every text XML-escaped.

export interface FeedEntry {
  id: string;
  title: string;
  url: string;
  updated: Date;
  summary: string;
}

export interface Feed {
  id: string;
  title: string;
  selfUrl: string;
  htmlUrl: string;
  author: string;
  entries: FeedEntry[];
}

/** Text for XML content and attributes; characters XML 1.0 cannot carry are dropped. */
export function xmlText(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function atomFeed(feed: Feed): string {
  const updated = feed.entries[0]?.updated ?? new Date(0);
  const entries = feed.entries.map(
    (e) => `  <entry>
    <id>${xmlText(e.id)}</id>
    <title>${xmlText(e.title)}</title>
    <link rel="alternate" type="text/html" href="${xmlText(e.url)}"/>
    <updated>${e.updated.toISOString()}</updated>
    <summary>${xmlText(e.summary)}</summary>
  </entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>${xmlText(feed.id)}</id>
  <title>${xmlText(feed.title)}</title>
  <link rel="self" type="application/atom+xml" href="${xmlText(feed.selfUrl)}"/>
  <link rel="alternate" type="text/html" href="${xmlText(feed.htmlUrl)}"/>
  <updated>${updated.toISOString()}</updated>
  <author><name>${xmlText(feed.author)}</name></author>
${entries.join('\n')}
</feed>
`;
}
