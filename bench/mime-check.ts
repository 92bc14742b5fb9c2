// One message the sink received, parsed with postal-mime: the benchmark's proof that speed did
// not cost correctness (headers of docs/contract.md §6, both parts, multipart/alternative, CRLF).
import PostalMime from 'postal-mime';

export interface MimeCheck {
  valid: boolean;
  problems: string[];
  bytes: number;
  headers: Record<string, string>;
  htmlBytes: number;
  textBytes: number;
}

const REQUIRED = [
  'from',
  'to',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'list-id',
  'precedence',
  'feedback-id',
  'x-bulletin-campaign',
];

export async function checkMime(raw: string | null): Promise<MimeCheck> {
  if (!raw)
    return {
      valid: false,
      problems: ['no message kept'],
      bytes: 0,
      headers: {},
      htmlBytes: 0,
      textBytes: 0,
    };
  const problems: string[] = [];
  const email = await PostalMime.parse(raw);
  const headers: Record<string, string> = {};
  for (const h of email.headers) headers[h.key] ??= h.value;
  for (const name of REQUIRED) if (!headers[name]) problems.push(`missing header ${name}`);
  if (!/^multipart\/alternative;/i.test(headers['content-type'] ?? ''))
    problems.push(`content-type is ${headers['content-type']}`);
  if (!/^<https:\/\/[^>]+\/unsubscribe\/[^>]+>/.test(headers['list-unsubscribe'] ?? ''))
    problems.push('list-unsubscribe is not an https unsubscribe link');
  if (headers['list-unsubscribe-post'] !== 'List-Unsubscribe=One-Click')
    problems.push('list-unsubscribe-post is wrong');
  if (!email.html || email.html.length < 1000) problems.push('no HTML part');
  if (!email.text || email.text.length < 200) problems.push('no text part');
  if (!email.html?.includes('/unsubscribe/')) problems.push('the HTML has no unsubscribe link');
  if (/\r(?!\n)|(?<!\r)\n/.test(raw)) problems.push('line endings are not all CRLF');
  if (raw.split('\r\n').some((line) => line.length > 998))
    problems.push('a line is over 998 characters');
  return {
    valid: problems.length === 0,
    problems,
    bytes: Buffer.byteLength(raw),
    headers: Object.fromEntries(
      [
        'from',
        'to',
        'subject',
        'message-id',
        'list-unsubscribe-post',
        'list-id',
        'content-type',
      ].map((k) => [k, headers[k] ?? '']),
    ),
    htmlBytes: Buffer.byteLength(email.html ?? ''),
    textBytes: Buffer.byteLength(email.text ?? ''),
  };
}
