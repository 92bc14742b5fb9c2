import { describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../src/domain/smtp-errors.js';

const reply = (responseCode: number, response: string) => ({
  responseCode,
  response: `${responseCode} ${response}`,
  code: 'EENVELOPE',
});

describe('classifying SMTP outcomes', () => {
  it.each([
    [reply(421, '4.3.2 Try again later'), 'transient'],
    [reply(451, '4.7.1 Greylisted'), 'transient'],
    [reply(452, '4.2.2 Mailbox full'), 'transient'],
    [{ code: 'ETIMEDOUT', message: 'Timeout' }, 'transient'],
    [{ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }, 'transient'],
    [{ code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25' }, 'transport'],
    [
      { code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication failed' },
      'transport',
    ],
    [reply(550, '5.7.1 Client host blocked using Spamhaus'), 'sender-blame'],
    [reply(554, '5.7.1 Message rejected due to local policy'), 'sender-blame'],
    [reply(550, 'Your IP is listed on a blocklist'), 'sender-blame'],
  ])('%j is %s', (error, kind) => {
    expect(classifySmtpError(error).kind).toBe(kind);
  });

  it('a 5.x.x rejection of the mailbox is a hard bounce', () => {
    expect(classifySmtpError(reply(550, '5.1.1 User unknown'))).toMatchObject({
      kind: 'bounce',
      bounceType: 'hard',
    });
    expect(classifySmtpError(reply(553, 'mailbox name not allowed'))).toMatchObject({
      kind: 'bounce',
      bounceType: 'hard',
    });
  });

  it('x.2.2 (mailbox full) at 5xx is a soft bounce', () => {
    expect(classifySmtpError(reply(552, '5.2.2 Mailbox full'))).toMatchObject({
      kind: 'bounce',
      bounceType: 'soft',
    });
  });

  it('keeps the server’s reply as the reason', () => {
    expect(classifySmtpError(reply(550, '5.1.1 User unknown')).reason).toBe(
      '550 5.1.1 User unknown',
    );
  });
});
