// Mail to the people who run Bulletin (set-password links, approval requests): plain notices,
// not list mail, so no List-Unsubscribe and no Precedence: bulk.
import type { Config } from '../config.js';
import { escapeHtml } from '../domain/text.js';
import { parseMailbox } from '../domain/sender.js';
import { newMessageId } from '../mail/message.js';
import type { MailTransport } from '../mail/transport.js';

export interface Notice {
  to: { name: string; email: string };
  subject: string;
  /** Paragraphs of plain text, escaped into the HTML part. */
  lines: string[];
  link: { url: string; label: string };
}

export async function sendNotice(
  transport: MailTransport,
  config: Pick<Config, 'mailFrom'>,
  notice: Notice,
): Promise<void> {
  const from = parseMailbox(config.mailFrom);
  const paragraphs = notice.lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('');
  await transport.send({
    from: { ...(from.name ? { name: from.name } : {}), address: from.address },
    to: { ...(notice.to.name ? { name: notice.to.name } : {}), address: notice.to.email },
    // Names come from data: a line break must never reach a header.
    subject: notice.subject.replace(/[\r\n\t]+/g, ' '),
    html:
      `<!doctype html><html lang="en"><body style="font-family:sans-serif;line-height:1.5">` +
      `${paragraphs}<p><a href="${escapeHtml(notice.link.url)}">${escapeHtml(notice.link.label)}</a></p>` +
      `</body></html>`,
    text: `${notice.lines.join('\n\n')}\n\n${notice.link.label}: ${notice.link.url}\n`,
    messageId: newMessageId(from.domain),
    oneClick: false,
    bulk: false,
  });
}
