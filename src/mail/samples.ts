// Stand-in values for previews: what a template looks like before there is a real recipient.
import type { MergeVars } from './types.js';

export const SAMPLE_SUBJECT = '{{ campaign.name }}';

export const SAMPLE_CONTENT = [
  '## This is where the campaign content goes',
  '',
  "Each campaign's own text, in Markdown or MJML, is placed in the template's content slot.",
  'Send `content` with the preview request to see real text here.',
].join('\n');

function currentQuarter(now: Date): string {
  const quarter = Math.floor(now.getUTCMonth() / 3) + 1;
  const ordinal = ['1st', '2nd', '3rd', '4th'][quarter - 1];
  return `${now.getUTCFullYear()} — ${ordinal} quarter`;
}

export function sampleMergeVars(
  publicUrl: string,
  now = new Date(),
  org: { name: string; address?: string | undefined } = { name: 'Bulletin' },
): MergeVars {
  return {
    org: { name: org.name, address: org.address ?? '' },
    subscriber: {
      email: 'reader@example.org',
      name: 'Alex Example',
      uuid: '00000000-0000-4000-8000-000000000001',
      attributes: {},
    },
    campaign: {
      name: 'Sample campaign',
      subject: 'Sample campaign',
      uuid: '00000000-0000-4000-8000-000000000002',
      data: { period: currentQuarter(now) },
    },
    list: { name: 'Sample list' },
    unsubscribe_url: `${publicUrl}/unsubscribe/preview`,
    preferences_url: `${publicUrl}/preferences/preview`,
    archive_url: `${publicUrl}/archive/preview`,
    confirm_url: `${publicUrl}/confirm/preview`,
  };
}
