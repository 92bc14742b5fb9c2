// Who a message is from: the campaign's own sender, or MAIL_FROM ("Name <address>").

export interface Sender {
  name: string | undefined;
  address: string;
  domain: string;
}

/**
 * The campaign's sender, read from the campaign row (so an edit made while paused applies from
 * the resume on); MAIL_FROM when the campaign names no address. Never parsed back out of a
 * joined "name <address>" string: a name may contain quotes or angle brackets.
 */
export function senderOf(
  campaign: { from_name: string | null; from_email: string | null },
  mailFrom: string,
): Sender {
  if (!campaign.from_email) {
    const fallback = parseMailbox(mailFrom);
    return campaign.from_name ? { ...fallback, name: campaign.from_name } : fallback;
  }
  const address = campaign.from_email;
  return {
    name: campaign.from_name ?? undefined,
    address,
    domain: address.slice(address.lastIndexOf('@') + 1),
  };
}

export function parseMailbox(value: string): Sender {
  const match = /^\s*(?:"?([^"<]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value);
  const address = (match ? match[2]! : value).trim();
  const name = match?.[1]?.trim() || undefined;
  return { name, address, domain: address.slice(address.lastIndexOf('@') + 1) };
}
