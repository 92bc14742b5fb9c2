// Who opened or clicked: a person, or a machine (docs/engagement.md). Decided from the request
// alone here; the burst rule ("every link of a message followed within 10 seconds") needs the
// delivery's other clicks and is applied by the engagement service.
import { isbot } from 'isbot';

/**
 * Mail-privacy proxies and security scanners that fetch images or follow links on the reader's
 * behalf. isbot knows crawlers; these name themselves in the User-Agent but are not all in its
 * list. Apple Mail Privacy Protection sends a plain browser agent: the early-open rule catches
 * its prefetch at delivery time.
 */
export const MAIL_PROXY_AGENTS: readonly RegExp[] = [
  /GoogleImageProxy/i, // Gmail's image proxy (ggpht.com)
  /YahooMailProxy/i,
  /Yahoo! Slurp/i,
  /OutlookImageProxy|Microsoft Office Existence Discovery|ms-office/i,
  /Barracuda/i,
  /Mimecast/i,
  /Proofpoint|ppops/i,
  /Symantec|MessageLabs/i,
  /Trend ?Micro/i,
  /Forcepoint|Websense/i,
  /SafeLinks|Safe ?Links/i,
  /Cisco|IronPort/i,
  /Sophos/i,
  /Fortinet|FortiGuard/i,
  /ZScaler/i,
];

/** An open this soon after the message was accepted is a prefetch, not a reader. */
export const EARLY_OPEN_SECONDS = 10;
/** Every link of a message followed within this window: a scanner. */
export const BURST_SECONDS = 10;

export type MachineReason =
  'head' | 'no-user-agent' | 'mail-proxy' | 'bot' | 'early-open' | 'burst';

export interface TrackingRequest {
  kind: 'open' | 'click';
  method: string;
  userAgent: string | undefined;
  /** When the delivery was accepted by the relay (null: not yet recorded). */
  sentAt: Date | null;
  at: Date;
}

/** Why this request is a machine's, or undefined for a person. */
export function machineReason(r: TrackingRequest): MachineReason | undefined {
  if (r.method === 'HEAD') return 'head';
  const agent = r.userAgent?.trim() ?? '';
  if (agent === '') return 'no-user-agent';
  if (MAIL_PROXY_AGENTS.some((p) => p.test(agent))) return 'mail-proxy';
  if (isbot(agent)) return 'bot';
  if (
    r.kind === 'open' &&
    r.sentAt &&
    r.at.getTime() - r.sentAt.getTime() < EARLY_OPEN_SECONDS * 1000
  ) {
    return 'early-open';
  }
  return undefined;
}

/**
 * The burst rule: a message with two links or more whose every link was followed within
 * BURST_SECONDS (the clicks given are those of that window, this one included).
 */
export function isBurst(linkCount: number, linksClickedInWindow: ReadonlySet<number>): boolean {
  return linkCount >= 2 && linksClickedInWindow.size >= linkCount;
}
