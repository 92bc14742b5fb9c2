// Which claimed deliveries really reached the SMTP server (docs/reliability.md, "unknown").
//
// A row claimed by a batch run is `sending` in PostgreSQL from its claim until its outcome is
// recorded; only some of those rows are ever inside an SMTP transaction. Redis keeps, per
// campaign, one field per row a run is working on:
//   s:<claim>          the transaction is about to begin (written before MAIL FROM)
//   d:<claim>:<msgid>  the server accepted the message (reply to the end of DATA)
//   f:<claim>          the attempt ended without acceptance (an error reply, a lost connection)
//   x:<claim>          recovery took the row back before it began: that run must not send it
// and one field r:<claim> per run, written before its first claim. When a run dies, its rows
// are resolved from these: begun and unanswered → unknown; accepted → sent; never begun or
// not accepted → queued again. Without the run's r: field (Redis lost its data since), nothing
// is known and every row is unknown, as before. Redis is single-threaded and both scripts are
// atomic, so a run that is not dead after all either began first (the row is unknown) or finds
// its row taken back (and does not send it).
import type { Redis } from 'ioredis';

/** Markers outlive any crash recovery; a campaign idle this long keeps nothing. */
const TTL_MS = 7 * 24 * 3600 * 1000;

const BEGIN = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v == ('x:' .. ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 's:' .. ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

const RESOLVE = `
local out = {}
for i = 1, #ARGV, 2 do
  local id, claim = ARGV[i], ARGV[i + 1]
  if redis.call('HEXISTS', KEYS[1], 'r:' .. claim) == 0 then
    out[#out + 1] = 'lost'
  else
    local v = redis.call('HGET', KEYS[1], id)
    local done = 'd:' .. claim .. ':'
    if v == ('s:' .. claim) then
      out[#out + 1] = 'unknown'
    elseif v and string.sub(v, 1, #done) == done then
      out[#out + 1] = 'sent:' .. string.sub(v, #done + 1)
    else
      redis.call('HSET', KEYS[1], id, 'x:' .. claim)
      out[#out + 1] = 'requeue'
    end
  end
end
return out`;

export type Resolution =
  { kind: 'unknown' } | { kind: 'sent'; messageId: string } | { kind: 'requeue' };

type ScriptRedis = Redis & {
  bulletinInFlightBegin(key: string, id: string, claim: string, ttl: number): Promise<number>;
  bulletinInFlightResolve(key: string, ...pairs: string[]): Promise<string[]>;
};

export class InFlight {
  private readonly redis: ScriptRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    this.redis = redis as ScriptRedis;
    if (!('bulletinInFlightBegin' in this.redis)) {
      redis.defineCommand('bulletinInFlightBegin', { numberOfKeys: 1, lua: BEGIN });
      redis.defineCommand('bulletinInFlightResolve', { numberOfKeys: 1, lua: RESOLVE });
    }
  }

  private key(campaignId: number): string {
    return `${this.prefix}:in-flight:${campaignId}`;
  }

  /** Before a run's first claim: from now on its rows can be resolved precisely. */
  async startRun(campaignId: number, claim: string): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(campaignId), `r:${claim}`, '1')
      .pexpire(this.key(campaignId), TTL_MS)
      .exec();
  }

  /**
   * Just before the SMTP transaction of one row. False: recovery took the row back meanwhile
   * (this run was thought dead); it must not be sent.
   */
  async begin(campaignId: number, deliveryId: number, claim: string): Promise<boolean> {
    const ok = await this.redis.bulletinInFlightBegin(
      this.key(campaignId),
      String(deliveryId),
      claim,
      TTL_MS,
    );
    return ok === 1;
  }

  /** The server's verdict on one row. Not awaited by senders: a lost write leaves `s:`, the safe side. */
  async ended(
    campaignId: number,
    deliveryId: number,
    claim: string,
    messageId: string | undefined,
  ): Promise<void> {
    await this.redis.hset(
      this.key(campaignId),
      String(deliveryId),
      messageId === undefined ? `f:${claim}` : `d:${claim}:${messageId}`,
    );
  }

  /** Rows whose outcome PostgreSQL now holds need no marker. */
  async forget(campaignId: number, deliveryIds: number[]): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.redis.hdel(this.key(campaignId), ...deliveryIds.map(String));
  }

  /** A run that ended normally: its run field goes. */
  async endRun(campaignId: number, claim: string): Promise<void> {
    await this.redis.hdel(this.key(campaignId), `r:${claim}`);
  }

  /** What became of rows claimed by runs that died; takes back the rows that never began. */
  async resolve(
    campaignId: number,
    rows: { id: number; claimedBy: string }[],
  ): Promise<Map<number, Resolution>> {
    const resolved = new Map<number, Resolution>();
    if (rows.length === 0) return resolved;
    const answers = await this.redis.bulletinInFlightResolve(
      this.key(campaignId),
      ...rows.flatMap((r) => [String(r.id), r.claimedBy]),
    );
    rows.forEach((row, i) => {
      const answer = answers[i] ?? 'lost';
      resolved.set(
        row.id,
        answer.startsWith('sent:')
          ? { kind: 'sent', messageId: answer.slice('sent:'.length) }
          : answer === 'requeue'
            ? { kind: 'requeue' }
            : { kind: 'unknown' },
      );
    });
    return resolved;
  }
}
