// How a bounce reported by a provider counts against the recipient (docs/contract.md §4.3), from
// what the provider knows: its own permanent/temporary verdict, the enhanced status code
// (RFC 3463) and the diagnostic text. The rules, in order:
// - x.7.x (policy, authentication, reputation) or blocklist wording: the receiver objects to
//   the sender, not to the mailbox. Recorded, never held against the recipient.
// - x.2.2 (mailbox full): soft, whatever the provider's verdict.
// - otherwise the provider's verdict (or, without one, the status class): permanent → hard,
//   temporary → soft.
import { enhancedStatus } from './smtp-errors.js';

export interface BounceFacts {
  /** The provider's own verdict, when it gives one. */
  permanent?: boolean | undefined;
  /** An enhanced status code the provider reports in its own field ("5.1.1"). */
  status?: string | null | undefined;
  /** The SMTP reply code, when the provider reports it separately. */
  smtpCode?: number | null | undefined;
  /** Diagnostic text: the remote server's reply, the provider's description. */
  diagnostic?: string | null | undefined;
}

export interface BounceVerdict {
  bounceType: 'hard' | 'soft' | null;
  senderBlame: boolean;
  /** The enhanced status code the verdict was based on, when one was found. */
  status: string | undefined;
}

const STATUS = /^([245])\.(\d{1,3})\.(\d{1,3})$/;

// Wording receivers use when they refuse the sending server or its content rather than the
// mailbox. Only consulted when no addressing/mailbox status (x.1.x, x.2.x) says otherwise.
const SENDER_BLAME_TEXT =
  /\b(block(ed|ing|list(ed)?)|black ?list(ed)?|deny ?list(ed)?|spamhaus|barracuda|spamcop|sorbs|reputation|policy|dmarc|spf|dkim|not authori[sz]ed to send|sender (address )?rejected|relay(ing)? (access )?denied|listed (at|in|on|by))\b/i;

export function classifyBounce(facts: BounceFacts): BounceVerdict {
  const given = facts.status?.trim();
  const status =
    (given && STATUS.test(given) ? given : undefined) ??
    enhancedStatus(facts.diagnostic ?? undefined);
  const match = status ? STATUS.exec(status) : null;
  const statusClass = match?.[1];
  const subject = match?.[2];
  const detail = match?.[3];
  if (subject === '7') return { bounceType: null, senderBlame: true, status };
  if (subject === '2' && detail === '2') return { bounceType: 'soft', senderBlame: false, status };
  const aboutMailbox = subject === '1' || subject === '2';
  if (!aboutMailbox && facts.diagnostic && SENDER_BLAME_TEXT.test(facts.diagnostic)) {
    return { bounceType: null, senderBlame: true, status };
  }
  const permanent =
    facts.permanent ??
    (statusClass ? statusClass === '5' : facts.smtpCode ? facts.smtpCode >= 500 : true);
  return { bounceType: permanent ? 'hard' : 'soft', senderBlame: false, status };
}

/** The reason stored with a bounce; sender-blame ones say why they changed nothing. */
export function bounceReason(verdict: BounceVerdict, text: string | null): string | null {
  if (!verdict.senderBlame) return text;
  return `[sender blamed, recipient not suppressed] ${text ?? ''}`.trim().slice(0, 1000);
}
