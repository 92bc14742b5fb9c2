// The shapes the delivery pipeline is written against (see render.ts for the functions).

/** A campaign's message compiled once; JSON-serialisable: stored as the campaign snapshot. */
export interface CompiledMessage {
  /** Liquid source of the subject. */
  subject: string;
  /** Compiled HTML, Liquid tags still in it. */
  html: string;
  /** Plain-text template generated once from the compiled HTML, Liquid tags still in it. */
  text: string;
  /** MJML warnings and the like: shown in previews and the preflight, never blocking. */
  warnings: string[];
}

/** Everything a template can use (docs/contract.md §3). */
export interface MergeVars {
  subscriber: { email: string; name: string; uuid: string; attributes: Record<string, unknown> };
  campaign: { name: string; subject: string; uuid: string; data: Record<string, unknown> };
  list: { name: string };
  /** Who sends (ORG_NAME, ORG_ADDRESS; the address is '' when unset). */
  org?: { name: string; address: string };
  unsubscribe_url: string;
  preferences_url: string;
  archive_url?: string;
  /** Tracked campaigns only (docs/engagement.md): the signed link of each tracked link. */
  tracked_links?: string[];
  open_pixel_url?: string;
  /** Double opt-in confirmation mail only. */
  confirm_url?: string;
}

export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
}
