// A message whose render ran out of time is built once more before it fails (docs/campaigns.md,
// "Preflight"): under load a collection can take an ordinary message past the
// wall-clock render limit, a runaway template fails both times, other errors are not retried.
import { describe, expect, it } from 'vitest';
import { MessageSender } from '../../src/services/message-sender.js';
import { RenderTimeout } from '../../src/mail/render.js';

const TIMEOUT = 'The template cannot be rendered: template render limit exceeded';

function senderWith(build: () => unknown) {
  let builds = 0;
  const messages = {
    build: () => {
      builds++;
      return build();
    },
  };
  const done = () => Promise.resolve(undefined);
  const sender = new MessageSender(
    messages as never,
    { take: done },
    { send: done } as never,
    { begin: () => Promise.resolve(true), ended: done } as never,
    2,
  );

  const send = () =>
    sender.send(
      { id: 1 } as never,
      {} as never,
      {} as never,
      { delivery_id: 7 } as never,
      'job#1',
      {
        warn: () => undefined,
      } as never,
    );
  return { send, builds: () => builds };
}

describe('a render that runs out of time', () => {
  it('is built again, and sent when the second build succeeds', async () => {
    let first = true;
    const s = senderWith(() => {
      if (first) {
        first = false;
        throw new RenderTimeout('unprocessable', TIMEOUT);
      }
      return { messageId: '<m@example.org>' };
    });
    expect(await s.send()).toEqual({ ok: true, messageId: '<m@example.org>' });
    expect(s.builds()).toBe(2);
  });

  it('fails as unsendable when it runs out of time twice', async () => {
    const s = senderWith(() => {
      throw new RenderTimeout('unprocessable', TIMEOUT);
    });
    expect(await s.send()).toEqual({ ok: false, error: { message: TIMEOUT, unsendable: true } });
    expect(s.builds()).toBe(2);
  });

  it('is not retried for any other error', async () => {
    const s = senderWith(() => {
      throw new Error('The template cannot be rendered: memory alloc limit exceeded');
    });
    expect((await s.send()).ok).toBe(false);
    expect(s.builds()).toBe(1);
  });
});
