// DKIM signing of the messages we compose (RFC 6376, rsa-sha256, relaxed/relaxed), with
// oversigning: From, Subject, List-Unsubscribe and List-Unsubscribe-Post are listed in h= once
// more than they occur, so a copy of any of them added in transit (a second From shown to the
// reader, a List-Unsubscribe pointing elsewhere) breaks the signature. nodemailer's signer
// lists each name once at most, which cannot do that.
import { createHash, createSign } from 'node:crypto';

export interface DkimKey {
  domain: string;
  selector: string;
  /** PEM; literal "\n" (one environment variable) is accepted. */
  privateKey: string;
}

/**
 * Signed header fields. RFC 8058 requires List-Unsubscribe and List-Unsubscribe-Post to be
 * covered for one-click to be honoured; the rest are what a forger would want to change.
 */
export const DKIM_SIGNED_FIELDS = [
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'MIME-Version',
  'Content-Type',
  'List-Id',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'Feedback-ID',
  'Precedence',
  'X-Bulletin-Campaign',
];

/** Listed once more than they occur: an instance added later fails verification. */
export const DKIM_OVERSIGNED_FIELDS = [
  'From',
  'Subject',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
];

interface Field {
  name: string;
  /** The whole field as written, folding included, without the final CRLF. */
  text: string;
}

function headerFields(head: string): Field[] {
  return head
    .split(/\r\n(?![ \t])/)
    .filter((line) => line !== '')
    .map((text) => ({ name: text.slice(0, text.indexOf(':')).trim().toLowerCase(), text }));
}

/** RFC 6376 §3.4.2. */
function relaxedHeader(text: string): string {
  const colon = text.indexOf(':');
  const value = text
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${text.slice(0, colon).trim().toLowerCase()}:${value}`;
}

/** RFC 6376 §3.4.4. */
function relaxedBody(body: string): string {
  const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines.length === 0 ? '' : `${lines.join('\r\n')}\r\n`;
}

/** The message with its DKIM-Signature field in front. */
export function dkimSign(raw: Buffer, key: DkimKey, now = new Date()): Buffer {
  // latin1 keeps every byte as one character: the hashes see exactly the bytes sent.
  const text = raw.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = split >= 0 ? text.slice(0, split) : text;
  const body = split >= 0 ? text.slice(split + 4) : '';
  const fields = headerFields(head);

  // Instances are taken from the bottom up (RFC 6376 §5.4.2); a name listed past its last
  // instance signs the null string, so a later instance of it cannot be added unnoticed.
  const names: string[] = [];
  const signed: string[] = [];
  for (const name of DKIM_SIGNED_FIELDS) {
    const present = fields.filter((f) => f.name === name.toLowerCase()).reverse();
    for (const field of present) {
      names.push(name);
      signed.push(`${relaxedHeader(field.text)}\r\n`);
    }
    if (DKIM_OVERSIGNED_FIELDS.includes(name)) names.push(name);
  }

  const bodyHash = createHash('sha256').update(relaxedBody(body), 'latin1').digest('base64');
  const tags = [
    'v=1',
    'a=rsa-sha256',
    'c=relaxed/relaxed',
    `d=${key.domain}`,
    `s=${key.selector}`,
    `t=${Math.floor(now.getTime() / 1000)}`,
    `bh=${bodyHash}`,
    `h=${names.join(':')}`,
    'b=',
  ];
  const unsigned = `DKIM-Signature: ${tags.join(';\r\n ')}`;
  const signature = createSign('RSA-SHA256')
    .update(signed.join('') + relaxedHeader(unsigned), 'latin1')
    .sign(key.privateKey.replace(/\\n/g, '\n'), 'base64');
  const folded = signature.replace(/.{1,72}/g, (chunk, offset: number) =>
    offset === 0 ? chunk : `\r\n ${chunk}`,
  );
  return Buffer.concat([Buffer.from(`${unsigned}${folded}\r\n`, 'latin1'), raw]);
}
