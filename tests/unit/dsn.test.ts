// The RFC 3464 delivery-status and RFC 5965 feedback-report parsers read the reports real MTAs
// and mailbox providers send, and a failed recipient is classified like any other bounce.
import { describe, expect, it } from 'vitest';
import {
  dsnVerdict,
  fieldAddress,
  isComplaint,
  parseDeliveryStatus,
  parseFeedbackReport,
  parseFieldBlocks,
} from '../../src/domain/dsn.js';
import { bounceToken, reportEvent } from '../../src/mail/inbound/bounce-receiver.js';
import { parseInboundReport } from '../../src/mail/inbound/report.js';

const POSTFIX_DSN = [
  'Reporting-MTA: dns; mail.example.net',
  'X-Postfix-Queue-ID: 4XyZ1k2LmNz3',
  'X-Postfix-Sender: rfc822; bounce+abc@bounces.example.org',
  'Arrival-Date: Tue,  2 Jan 2024 10:00:00 +0000 (UTC)',
  '',
  'Final-Recipient: rfc822; Reader1@Example.test',
  'Original-Recipient: rfc822;reader1@example.test',
  'Action: failed',
  'Status: 5.1.1',
  'Remote-MTA: dns; mx1.example.test',
  'Diagnostic-Code: smtp; 550 5.1.1 <reader1@example.test>: Recipient address',
  '    rejected: User unknown in local recipient table',
  '',
].join('\r\n');

const EXCHANGE_MULTI = `Reporting-MTA: dns;EX01.corp.example
Received-From-MTA: dns;out.bulletin.test
Arrival-Date: Wed, 3 Jan 2024 08:12:01 +0000

Final-Recipient: rfc822;full@corp.example
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp;552 5.2.2 Mailbox full

Final-Recipient: rfc822;slow@corp.example
Action: delayed
Status: 4.4.7
Will-Retry-Until: Thu, 4 Jan 2024 08:12:01 +0000

Final-Recipient: rfc822;blocked@corp.example
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp; 550 5.7.1 Service unavailable; client host [192.0.2.1] blocked using
 zen.spamhaus.org
`;

const ARF = `Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <bounce+abc@bounces.example.org>
Original-Rcpt-To: <Reader2@example.test>
Arrival-Date: Thu, 8 Mar 2024 14:00:00 EDT
Reported-Domain: bulletin.test
Source-IP: 192.0.2.1
`;

describe('header-style field blocks', () => {
  it('splits on blank lines, unfolds continuation lines and lowercases names', () => {
    const blocks = parseFieldBlocks('A: 1\r\nLong-Field: one\r\n  two\r\n\r\n\r\nB: 2\n\tC: x\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]!.get('long-field')).toBe('one two');
    expect(blocks[1]!.get('b')).toBe('2 C: x');
  });

  it('reads an address-type field without its type and brackets', () => {
    expect(fieldAddress('rfc822; <Someone@Example.COM>')).toBe('someone@example.com');
    expect(fieldAddress('someone@example.com')).toBe('someone@example.com');
    expect(fieldAddress('rfc822;')).toBeUndefined();
  });
});

describe('RFC 3464 delivery status', () => {
  it('reads a Postfix "user unknown" DSN as a hard bounce of the named recipient', () => {
    const dsn = parseDeliveryStatus(POSTFIX_DSN);
    expect(dsn.reportingMta).toBe('mail.example.net');
    expect(dsn.recipients).toEqual([
      {
        finalRecipient: 'reader1@example.test',
        originalRecipient: 'reader1@example.test',
        action: 'failed',
        status: '5.1.1',
        diagnosticCode:
          '550 5.1.1 <reader1@example.test>: Recipient address rejected: User unknown in local recipient table',
        remoteMta: 'mx1.example.test',
      },
    ]);
    expect(dsnVerdict(dsn.recipients[0]!)).toMatchObject({
      bounceType: 'hard',
      senderBlame: false,
    });
  });

  it('classifies each recipient of a multi-recipient DSN: full mailbox soft, delay nothing, 5.7.1 sender blame', () => {
    const [full, slow, blocked] = parseDeliveryStatus(EXCHANGE_MULTI).recipients;
    expect(full).toMatchObject({ finalRecipient: 'full@corp.example', status: '5.2.2' });
    expect(dsnVerdict(full!)).toMatchObject({ bounceType: 'soft' });
    expect(slow!.action).toBe('delayed');
    expect(dsnVerdict(slow!)).toBeUndefined();
    expect(blocked!.diagnosticCode).toContain('zen.spamhaus.org');
    expect(dsnVerdict(blocked!)).toMatchObject({ bounceType: null, senderBlame: true });
  });

  it('takes the status from the diagnostic code when the Status field is malformed', () => {
    const dsn = parseDeliveryStatus(
      'Final-Recipient: rfc822; x@y.test\nAction: Failed\nStatus: unknown\nDiagnostic-Code: smtp; 550 5.1.2 Host not found\n',
    );
    expect(dsn.recipients[0]).toMatchObject({ action: 'failed', status: undefined });
    expect(dsnVerdict(dsn.recipients[0]!)).toMatchObject({ bounceType: 'hard', status: '5.1.2' });
  });

  it('does not count delivered, relayed or unknown actions', () => {
    for (const action of ['delivered', 'relayed', 'expanded', 'bogus']) {
      const [r] = parseDeliveryStatus(
        `Final-Recipient: rfc822; a@b.test\nAction: ${action}\nStatus: 2.0.0\n`,
      ).recipients;
      expect(dsnVerdict(r!)).toBeUndefined();
    }
  });
});

describe('RFC 5965 feedback report', () => {
  it('reads an abuse report with its original recipient', () => {
    const report = parseFeedbackReport(ARF.replace(/\n/g, '\r\n'))!;
    expect(report).toMatchObject({
      feedbackType: 'abuse',
      originalRcptTo: ['reader2@example.test'],
      originalMailFrom: 'bounce+abc@bounces.example.org',
      reportedDomain: 'bulletin.test',
    });
    expect(isComplaint(report)).toBe(true);
  });

  it('treats not-spam and auth-failure reports as no complaint, and no Feedback-Type as no report', () => {
    expect(isComplaint(parseFeedbackReport('Feedback-Type: not-spam\nVersion: 1\n')!)).toBe(false);
    expect(isComplaint(parseFeedbackReport('Feedback-Type: auth-failure\n')!)).toBe(false);
    expect(parseFeedbackReport('Version: 1\n')).toBeUndefined();
  });
});

function multipartReport(reportType: string, partType: string, part: string, messageId?: string) {
  return [
    'From: MAILER-DAEMON@mail.example.net',
    'To: bounce+abc@bounces.example.org',
    'Subject: Undelivered Mail Returned to Sender',
    ...(messageId ? [`Message-ID: ${messageId}`] : []),
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=${reportType}; boundary="BOUND"`,
    '',
    '--BOUND',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mail.example.net.',
    '',
    '--BOUND',
    `Content-Type: ${partType}`,
    'Content-Description: Delivery report',
    '',
    part,
    '--BOUND',
    'Content-Type: text/rfc822-headers',
    '',
    'Message-ID: <original@bulletin.test>',
    'Subject: News',
    '',
    '--BOUND--',
    '',
  ].join('\r\n');
}

const target = {
  subscriberId: 7,
  subscriberUuid: '00000000-0000-4000-8000-000000000007',
  email: 'reader1@example.test',
  campaignId: 3,
};

describe('inbound reports', () => {
  it('finds the delivery-status part of a multipart/report and names it by its Message-ID', async () => {
    const raw = multipartReport(
      'delivery-status',
      'message/delivery-status',
      POSTFIX_DSN,
      '<r1@mail.example.net>',
    );
    const report = await parseInboundReport(raw);
    expect(report?.kind).toBe('dsn');
    expect(report?.reportId).toBe('<r1@mail.example.net>');
    const outcome = reportEvent(report!, target);
    expect(outcome).toMatchObject({
      event: {
        type: 'bounce',
        bounceType: 'hard',
        source: 'dsn',
        subscriberId: 7,
        campaignId: 3,
        providerEventId: 'dsn:<r1@mail.example.net>:reader1@example.test',
      },
    });
  });

  it('ignores a DSN about another recipient than the token names', async () => {
    const raw = multipartReport('delivery-status', 'message/delivery-status', POSTFIX_DSN);
    const report = (await parseInboundReport(raw))!;
    expect(report.reportId).toMatch(/^sha256:/);
    expect(reportEvent(report, { ...target, email: 'someone@else.test' })).toEqual({
      ignored: 'recipient mismatch',
    });
  });

  it('makes an ARF abuse report a complaint, and mail without a report part nothing', async () => {
    const raw = multipartReport(
      'feedback-report',
      'message/feedback-report',
      ARF,
      '<arf@fbl.test>',
    );
    const report = (await parseInboundReport(raw))!;
    expect(reportEvent(report, { ...target, email: 'reader2@example.test' })).toMatchObject({
      event: { type: 'complaint', source: 'dsn' },
    });
    expect(
      await parseInboundReport('Subject: Out of office\r\n\r\nI am away.\r\n'),
    ).toBeUndefined();
  });

  it('only reads tokens of return paths at the bounce domain', () => {
    expect(bounceToken('bounce+abc.DEF@Bounces.Example.org', 'bounces.example.org')).toBe(
      'abc.DEF',
    );
    expect(bounceToken('bounce+abc@other.org', 'bounces.example.org')).toBeUndefined();
    expect(bounceToken('postmaster@bounces.example.org', 'bounces.example.org')).toBeUndefined();
  });
});
