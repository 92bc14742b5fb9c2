// The raw limit, in a process of its own: a nodemailer pool sending one pre-built MIME message
// of the newsletter's size, again and again, straight to the sink. Nothing is composed per
// message: this is what SMTP itself costs on this machine, the yardstick for the pipeline.
// argv: <sink port> <messages> <connections>
import nodemailer from 'nodemailer';
import { compileMessage, Personalizer } from '../src/mail/render.js';
import { toMailOptions } from '../src/mail/message.js';
import { sampleMergeVars } from '../src/mail/samples.js';
import { CAMPAIGN_DATA, newsletterSource, SUBJECT } from './newsletter.js';

async function prebuiltMessage(): Promise<Buffer> {
  const { mjml, content } = await newsletterSource();
  const compiled = await compileMessage({
    mjml,
    content,
    contentType: 'markdown',
    subject: SUBJECT,
  });
  const vars = sampleMergeVars('https://news.example.org');
  vars.campaign.data = CAMPAIGN_DATA;
  const rendered = new Personalizer(compiled).render(vars);
  const composer = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'windows',
  });
  const info = await composer.sendMail(
    toMailOptions({
      from: { name: 'The Secretariat', address: 'newsletter@example.org' },
      to: { name: 'Alex Example', address: 'reader@example.org' },
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      messageId: '<raw-benchmark@example.org>',
      listUnsubscribe: { url: vars.unsubscribe_url },
      oneClick: true,
      listId: '<list-1.example.org>',
      bulk: true,
      feedbackId: '1:1:newsletter:bulletin',
      campaignUuid: vars.campaign.uuid,
    }),
  );
  return info.message as Buffer;
}

async function main(): Promise<void> {
  const [port, count, connections] = process.argv.slice(2).map(Number) as [number, number, number];
  const raw = await prebuiltMessage();
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: connections,
    maxMessages: Infinity,
  });
  const envelope = { from: 'newsletter@example.org', to: ['reader@example.org'] };
  // Warm-up before the clock starts: the connections open, and both this process and the sink
  // get their code optimised (a cold sink made short runs vary by a factor of two).
  const warmUp = Math.max(connections * 4, Math.min(2000, Math.ceil(count / 5)));
  let warmed = 0;
  await Promise.all(
    Array.from({ length: connections * 4 }, async () => {
      while (warmed < warmUp) {
        warmed++;
        await transport.sendMail({ envelope, raw });
      }
    }),
  );
  const started = performance.now();
  let next = 0;
  const inFlight = connections * 4;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        next++;
        await transport.sendMail({ envelope, raw });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  transport.close();
  process.send?.({
    type: 'raw',
    messages: count,
    seconds,
    msgsPerSec: count / seconds,
    messageBytes: raw.length,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
