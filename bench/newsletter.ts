// The newsletter the benchmark sends: the quarterly template and sample content from
// templates/, the same a real user sends (the quarterly newsletter sample in templates/samples), compiled like a campaign.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../src/lib/paths.js';

export const CAMPAIGN_DATA = {
  title: 'Quarterly Newsletter',
  period: '2027 — 2nd quarter',
  organisation: 'The Secretariat',
  contactName: 'The Secretariat',
  contactAddress: '1 Example Street, 1200 Geneva, Switzerland',
  contactEmail: 'info@example.org',
  contactWebsite: 'https://www.example.org',
};

export const SUBJECT = '{{ campaign.data.title }}, {{ campaign.data.period }}';

export async function newsletterSource(): Promise<{ mjml: string; content: string }> {
  const root = packageRoot();
  const [mjml, content] = await Promise.all([
    readFile(path.join(root, 'templates', 'newsletter.mjml'), 'utf8'),
    readFile(path.join(root, 'templates', 'samples', 'quarterly-content.md'), 'utf8'),
  ]);
  return { mjml, content };
}
