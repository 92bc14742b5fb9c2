// `npx bulletin demo [--send]`: a list, a few subscribers, the quarterly newsletter template and
// a campaign with a quarter's content, so a newcomer sees a real send in the outbox at once.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { createContainer, type Container } from '../container.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../lib/logger.js';
import { packageRoot } from '../lib/paths.js';
import { SubscribersRepository } from '../db/repositories/subscribers.repository.js';
import { TemplatesRepository } from '../db/repositories/templates.repository.js';

const READERS = [
  { email: 'ada@example.org', name: 'Ada Lovelace', attributes: { city: 'London' } },
  { email: 'grace@example.org', name: 'Grace Hopper', attributes: { city: 'Arlington' } },
  { email: 'alan@example.org', name: 'Alan Turing', attributes: { city: 'Wilmslow' } },
  { email: 'katherine@example.org', name: 'Katherine Johnson', attributes: { city: 'Hampton' } },
  { email: 'edsger@example.org', name: 'Edsger Dijkstra', attributes: { city: 'Nuenen' } },
];

export async function runDemo(
  config: Config,
  send: boolean,
  out: (line: string) => void,
): Promise<void> {
  const log = createLogger('warn');
  await migrate(config.databaseUrl, log);
  const container = await createContainer(config, log);
  try {
    const { services } = container;
    const list = await services.lists.create({
      name: 'Quarterly newsletter (demo)',
      description: 'Readers of the demo newsletter',
      visibility: 'public',
    });
    await addReaders(container, list.id);
    const { template, campaign } = await createDemoCampaign(container, list.id);
    // A public double opt-in list: /subscribe offers it, and subscribing sends the confirmation.
    const updates = await services.lists.create({
      name: 'News and events (demo)',
      description: 'Occasional news; double opt-in',
      visibility: 'public',
      optin: 'double',
    });
    out(
      `Created list ${list.id} with ${READERS.length} subscribers, template ${template.id} and campaign ${campaign.id}.`,
    );
    out(
      `Created list ${updates.id}, public with double opt-in: subscribe at ${config.publicUrl}/subscribe to get its confirmation mail.`,
    );
    if (!config.org.address) {
      out('Set ORG_NAME and ORG_ADDRESS to name your organisation on the pages and in the mail.');
    }
    if (send) {
      await services.campaigns.start(campaign.id);
      out(`Campaign ${campaign.id} started: a running worker (npm start) delivers it.`);
    } else {
      printNextSteps(config, campaign.id, out);
    }
    if (!config.smtpUrl)
      out(
        `Without SMTP_URL the messages land in ${config.outboxDir} and at ${config.publicUrl}/dev/outbox`,
      );
  } finally {
    await container.close();
  }
}

/** The demo readers on the list; a reader already in the database is added to it. */
async function addReaders({ services, pool }: Container, listId: number): Promise<void> {
  const subscribers = new SubscribersRepository(pool);
  for (const reader of READERS) {
    const existing = await subscribers.findByEmail(reader.email);
    if (existing)
      await services.subscribers.changeLists(existing.id, { add: [listId] }, { source: 'api' });
    else await services.subscribers.create({ ...reader, lists: [listId] }, { source: 'api' });
  }
}

async function createDemoCampaign({ services, pool, config }: Container, listId: number) {
  const root = packageRoot();
  const mjml = await readFile(path.join(root, 'templates', 'newsletter.mjml'), 'utf8');
  const content = await readFile(
    path.join(root, 'templates', 'samples', 'quarterly-content.md'),
    'utf8',
  );
  const template = await new TemplatesRepository(pool).create({
    name: 'Quarterly newsletter',
    mjml,
  });
  const campaign = await services.campaigns.create({
    name: 'Quarterly newsletter — demo issue',
    subject: '{{ campaign.data.title }}, {{ campaign.data.period }}',
    templateId: template.id,
    listIds: [listId],
    content,
    contentType: 'markdown',
    // One organisation everywhere: the same ORG_NAME and ORG_ADDRESS the public pages and
    // the confirmation mail show (the template's masthead and footer default to them).
    fromName: config.org.name,
    fromEmail: 'newsletter@example.org',
    replyTo: null,
    data: {
      title: 'Quarterly Newsletter',
      period: '2027 — 2nd quarter',
      contactName: config.org.name,
      contactEmail: 'info@example.org',
      contactWebsite: 'https://www.example.org',
    },
  });
  return { template, campaign };
}

function printNextSteps(config: Config, campaignId: number, out: (line: string) => void): void {
  out(
    `Preview the checks:  curl -s ${config.publicUrl}/api/v1/campaigns/${campaignId}/preflight -H "Authorization: Bearer $TOKEN"`,
  );
  out(
    `Send it:             curl -s -X POST ${config.publicUrl}/api/v1/campaigns/${campaignId}/send -H "Authorization: Bearer $TOKEN"`,
  );
}
