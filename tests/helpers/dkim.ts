// A relaxed/relaxed DKIM check (RFC 6376 §3.4) for tests: the body hash, the covered fields and
// the signature against the public key.
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { expect } from 'vitest';

export function verifyDkim(raw: string, publicKeyPem: string) {
  const split = raw.indexOf('\r\n\r\n');
  const lines = raw.slice(0, split).split(/\r\n(?![ \t])/);
  const body = raw.slice(split + 4);
  const signatureLine = lines.find((l) => /^dkim-signature:/i.test(l))!;
  const tags = Object.fromEntries(
    signatureLine
      .slice(signatureLine.indexOf(':') + 1)
      .replace(/\s+/g, '')
      .split(';')
      .filter(Boolean)
      .map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]),
  ) as Record<string, string>;
  const relaxedBody = body
    .split('\r\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
    .join('\r\n')
    .replace(/(\r\n)*$/, '\r\n');
  const bodyHash = createHash('sha256').update(relaxedBody, 'latin1').digest('base64');
  const relaxed = (line: string) => {
    const colon = line.indexOf(':');
    const value = line
      .slice(colon + 1)
      .replace(/\r\n/g, '')
      .replace(/[ \t]+/g, ' ')
      .trim();
    return `${line.slice(0, colon).trim().toLowerCase()}:${value}`;
  };
  const used = new Set<number>();
  const signed = tags.h!.split(':').map((name) => {
    for (let i = lines.length - 1; i >= 0; i--) {
      if (!used.has(i) && lines[i]!.toLowerCase().startsWith(`${name.toLowerCase()}:`)) {
        used.add(i);
        return `${relaxed(lines[i]!)}\r\n`;
      }
    }
    return '';
  });
  const data = signed.join('') + relaxed(signatureLine).replace(/b=[^;]*$/, 'b=');
  const ok = verify(
    'RSA-SHA256',
    Buffer.from(data, 'latin1'),
    createPublicKey(publicKeyPem),
    Buffer.from(tags.b!, 'base64'),
  );
  return { tags, bodyHashOk: bodyHash === tags.bh, ok };
}

/** The header fields every campaign message's signature must cover. */
export const SIGNED_CAMPAIGN_FIELDS = [
  'from',
  'to',
  'subject',
  'date',
  'message-id',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'list-id',
];

/**
 * Asserts that `raw` carries a valid signature by bulletin.example.org (selector news2024)
 * covering the campaign fields and `also`, and that changing the one-click header breaks it.
 * Returns the covered field names, lower-cased, in signing order.
 */
export function expectCampaignSignature(
  raw: string,
  publicPem: string,
  also: string[] = [],
): string[] {
  const { tags, ok, bodyHashOk } = verifyDkim(raw, publicPem);
  expect(tags.d).toBe('bulletin.example.org');
  expect(tags.s).toBe('news2024');
  const covered = tags.h!.toLowerCase().split(':');
  for (const field of [...SIGNED_CAMPAIGN_FIELDS, ...also]) expect(covered, field).toContain(field);
  expect(bodyHashOk).toBe(true);
  expect(ok).toBe(true);
  const tampered = raw.replace('List-Unsubscribe=One-Click', 'List-Unsubscribe=Other');
  expect(verifyDkim(tampered, publicPem).ok).toBe(false);
  return covered;
}

/**
 * A fresh RSA key pair and the DKIM settings that sign with it, the private key on one line as
 * an operator pastes it into one environment variable.
 */
export function dkimSettings(): { env: Record<string, string>; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    env: {
      DKIM_DOMAIN: 'bulletin.example.org',
      DKIM_SELECTOR: 'news2024',
      DKIM_PRIVATE_KEY: privatePem.replace(/\n/g, '\\n'),
    },
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
