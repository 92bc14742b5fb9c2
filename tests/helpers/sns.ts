// The SNS side of the SES webhook tests: a self-signed certificate served by a fake fetcher
// that counts its calls (the one fake of the suite: the certificate download), SNS messages
// signed the way SNS documents it, and SES notification bodies as Amazon's examples give them.
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';

export const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:bulletin-ses-feedback';
export const OTHER_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:someone-else';
export const CERT_URL =
  'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';

// ---- A self-signed X.509 certificate, DER-encoded by hand (node:crypto cannot create one). ----
export function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  let length: Buffer;
  if (body.length < 0x80) length = Buffer.from([body.length]);
  else {
    const hex = body.length.toString(16);
    const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
    length = Buffer.concat([Buffer.from([0x80 | bytes.length]), bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, body]);
}
export const seq = (...c: Buffer[]) => der(0x30, ...c);
export const integer = (b: Buffer) =>
  der(0x02, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
export function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}
export const utcTime = (d: Date) =>
  der(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'));

export function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject): string {
  const sha256WithRsa = seq(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
  const name = seq(der(0x31, seq(oid('2.5.4.3'), der(0x0c, Buffer.from('sns.amazonaws.com')))));
  const serial = randomBytes(8);
  serial[0]! &= 0x7f;
  const tbs = seq(
    der(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    sha256WithRsa,
    name,
    seq(
      utcTime(new Date(Date.now() - 86_400_000)),
      utcTime(new Date(Date.now() + 365 * 86_400_000)),
    ),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const cert = seq(tbs, sha256WithRsa, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = cert
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

export const aws = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const forger = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const certificate = selfSignedCertificate(aws.privateKey, aws.publicKey);

// ---- The fake fetcher and an app whose SNS verifier uses it. ----
export const fetched: string[] = [];
export const fakeFetcher = (url: URL): Promise<string> => {
  fetched.push(url.toString());
  if (url.toString() === CERT_URL) return Promise.resolve(certificate);
  if (url.searchParams.get('Action') === 'ConfirmSubscription') {
    return Promise.resolve(
      '<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>x</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>',
    );
  }
  return Promise.reject(new Error(`unexpected fetch of ${url.toString()}`));
};

// ---- SNS messages, signed the way SNS documents it. ----
export type Sns = Record<string, string>;

export function stringToSign(m: Sns): string {
  const keys =
    m.Type === 'Notification'
      ? [
          'Message',
          'MessageId',
          ...('Subject' in m ? ['Subject'] : []),
          'Timestamp',
          'TopicArn',
          'Type',
        ]
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys.map((k) => `${k}\n${m[k]}\n`).join('');
}

export function signSns(m: Sns, { key = aws.privateKey, version = '1' } = {}): Sns {
  const unsigned = {
    ...m,
    SignatureVersion: version,
    SigningCertURL: m.SigningCertURL ?? CERT_URL,
  };
  const signature = sign(
    version === '1' ? 'sha1' : 'sha256',
    Buffer.from(stringToSign(unsigned)),
    key,
  );
  return { ...unsigned, Signature: signature.toString('base64') };
}

export function notification(message: object, extra: Partial<Sns> = {}): Sns {
  return {
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: TOPIC,
    Message: JSON.stringify(message),
    Timestamp: new Date().toISOString(),
    UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:${randomUUID()}`,
    ...extra,
  };
}

// SES notification bodies as in "Amazon SNS notification examples for Amazon SES".
export function mail(recipient: string, messageId: string) {
  return {
    timestamp: new Date().toISOString(),
    source: 'news@bulletin.test',
    sourceArn: 'arn:aws:ses:eu-west-1:123456789012:identity/bulletin.test',
    sourceIp: '192.0.2.8',
    sendingAccountId: '123456789012',
    messageId: `0102018c${randomBytes(8).toString('hex')}-${randomUUID()}-000000`,
    destination: [recipient],
    headersTruncated: false,
    headers: [
      { name: 'From', value: 'The Secretariat <news@bulletin.test>' },
      { name: 'To', value: recipient },
      { name: 'Message-ID', value: `<${messageId}>` },
      { name: 'Subject', value: 'Quarterly newsletter' },
    ],
    commonHeaders: {
      from: ['The Secretariat <news@bulletin.test>'],
      to: [recipient],
      messageId: `<${messageId}>`,
      subject: 'Quarterly newsletter',
    },
  };
}

export function bounceMessage(
  recipient: string,
  {
    bounceType = 'Permanent',
    bounceSubType = 'General',
    status = '5.1.1',
    diagnosticCode = `smtp; 550 5.1.1 <${recipient}>... User unknown`,
    messageId = `${randomUUID()}@bulletin.test`,
  } = {},
) {
  return {
    notificationType: 'Bounce',
    bounce: {
      bounceType,
      reportingMTA: 'dsn; a4-8.smtp-out.eu-west-1.amazonses.com',
      bouncedRecipients: [{ emailAddress: recipient, status, action: 'failed', diagnosticCode }],
      bounceSubType,
      timestamp: new Date().toISOString(),
      feedbackId: `0102018c${randomBytes(8).toString('hex')}-${randomUUID()}-000000`,
      remoteMtaIp: '192.0.2.20',
    },
    mail: mail(recipient, messageId),
  };
}
