// Subscriber addresses never reach an info line in full; secrets never reach any line.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { maskEmails } from '../../src/lib/mask.js';

function capture(level = 'debug') {
  const lines: string[] = [];
  const log = createLogger(level, {}, { write: (line) => lines.push(line) });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('masking e-mail addresses', () => {
  it('keeps the first character and the domain', () => {
    expect(maskEmails('to ada.lovelace+news@example.org.')).toBe('to a***@example.org.');
    expect(maskEmails('<bob@mail.example.co.uk>: 550 5.1.1 unknown')).toBe(
      '<b***@mail.example.co.uk>: 550 5.1.1 unknown',
    );
    expect(maskEmails('élodie@exemple.fr')).toBe('é***@exemple.fr');
    expect(maskEmails('no address here, @handle, a@b')).toBe('no address here, @handle, a@b');
  });

  it('masks addresses in any field and in error messages at info and above', () => {
    const { log, lines, parsed } = capture();
    log.info({ email: 'ada@example.org', nested: { to: ['bob@example.net'] } }, 'sent');
    log.warn({ err: new Error('550 <carol@example.com> rejected') }, 'bounce for eve@example.com');
    const text = lines.join('');
    expect(text).not.toMatch(/ada@|bob@|carol@|eve@/);
    const [info, warn] = parsed();
    expect(info).toMatchObject({ email: 'a***@example.org', nested: { to: ['b***@example.net'] } });
    expect(warn!.msg).toBe('bounce for e***@example.com');
    expect((warn!.err as { message: string }).message).toBe('550 <c***@example.com> rejected');
  });

  it('leaves debug lines whole, for a developer who asked for them', () => {
    const { log, parsed } = capture('debug');
    log.debug({ email: 'ada@example.org' }, 'debugging');
    expect(parsed()[0]).toMatchObject({ email: 'ada@example.org' });
  });

  it('redacts secrets by path', () => {
    const { log, lines } = capture('info');
    log.info(
      {
        req: { headers: { authorization: 'Bearer bt_secret' } },
        config: { smtpUrl: 'smtp://u:pw@h', token: 'tok' },
      },
      'x',
    );
    expect(lines.join('')).not.toMatch(/bt_secret|pw@h|"tok"/);
  });
});
