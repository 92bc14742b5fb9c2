// Classifies an SMTP outcome for one recipient (docs/contract.md §4.3, §5). The rules:
// - 4xx, or a connection lost / timed out before the reply to the end of DATA: transient, retry.
// - 5xx blaming the sender (5.7.x policy, blocklists, authentication): permanent for this
//   message but never held against the recipient.
// - x.2.2 (mailbox full, RFC 3463): a soft bounce.
// - other 5xx: a hard bounce.
// - authentication failure or connection refused: a transport error (counts toward auto-pause).

export type SmtpOutcome =
  | { kind: 'transient'; reason: string }
  | { kind: 'transport'; reason: string }
  | { kind: 'bounce'; bounceType: 'hard' | 'soft'; reason: string }
  | { kind: 'sender-blame'; reason: string };

export interface SmtpErrorLike {
  code?: string | undefined;
  responseCode?: number | undefined;
  response?: string | undefined;
  command?: string | undefined;
  message?: string | undefined;
}

const ENHANCED = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/;
const SENDER_BLAME_TEXT =
  /\b(block(ed|list(ed)?)|black ?list(ed)?|spamhaus|barracuda|spamcop|sorbs|reputation|policy|dmarc|spf|dkim|not authori[sz]ed to send|sender (address )?rejected|relay(ing)? (access )?denied)\b/i;

export function enhancedStatus(response: string | undefined): string | undefined {
  const match = response ? ENHANCED.exec(response) : null;
  return match ? `${match[1]}.${match[2]}.${match[3]}` : undefined;
}

export function classifySmtpError(error: SmtpErrorLike): SmtpOutcome {
  const reason = (error.response ?? error.message ?? 'unknown error').slice(0, 500);
  const code = error.responseCode;
  if (error.code === 'EAUTH' || code === 535 || code === 534 || code === 530) {
    return { kind: 'transport', reason };
  }
  if (code === undefined) {
    // No reply from the server: without a reply to the end of DATA the message was not
    // accepted (RFC 5321 §4.1.1.4), so it is retried. Refused connections blame our transport.
    if (
      error.code === 'EDNS' ||
      /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH/.test(error.message ?? '')
    ) {
      return { kind: 'transport', reason };
    }
    return { kind: 'transient', reason };
  }
  if (code >= 400 && code < 500) return { kind: 'transient', reason };
  if (code >= 500) {
    const status = enhancedStatus(error.response);
    if (status?.endsWith('.2.2')) return { kind: 'bounce', bounceType: 'soft', reason };
    // Without an enhanced code, the text is all we have to tell a blocklist from a bad mailbox.
    if (status?.startsWith('5.7.') || (!status && SENDER_BLAME_TEXT.test(reason))) {
      return { kind: 'sender-blame', reason };
    }
    return { kind: 'bounce', bounceType: 'hard', reason };
  }
  return { kind: 'transient', reason };
}
