// When a scheduled campaign starts. `sendAt` with an offset (Z, +02:00) is an instant; without
// one it is a wall-clock time in `timezone` (IANA, default UTC), resolved with the zone's rules
// for that date, so "09:00 Europe/Zurich" stays 09:00 across daylight-saving changes. A time
// skipped by a spring-forward gap moves forward by the gap (02:30 → 03:30); a time that occurs
// twice in autumn takes the first (summer-time) occurrence.
import { DateTime, IANAZone } from 'luxon';

export type ScheduleResult =
  | { ok: true; at: Date; timezone: string }
  | { ok: false; path: 'sendAt' | 'timezone'; message: string };

export function resolveSendAt(sendAt: string, timezone: string | undefined): ScheduleResult {
  const zone = timezone ?? 'UTC';
  if (!IANAZone.isValidZone(zone)) {
    return {
      ok: false,
      path: 'timezone',
      message: `"${zone}" is not an IANA time zone (e.g. Europe/Zurich)`,
    };
  }
  // setZone keeps an offset written in the string; without one the time is read in `zone`.
  const dt = DateTime.fromISO(sendAt.trim(), { zone, setZone: true });
  if (!dt.isValid) {
    return {
      ok: false,
      path: 'sendAt',
      message: 'must be an ISO-8601 date and time, e.g. 2027-03-01T09:00',
    };
  }
  // A wall-clock time that happens twice (autumn): take the earlier instant.
  const earliest = dt
    .getPossibleOffsets()
    .reduce((a, b) => (b.toMillis() < a.toMillis() ? b : a), dt);
  return { ok: true, at: earliest.toJSDate(), timezone: zone };
}

/** The instant shown back in the campaign's own zone, e.g. "2027-03-29T09:00:00.000+02:00". */
export function inZone(at: Date, timezone: string | null): string {
  return DateTime.fromJSDate(at, { zone: timezone ?? 'UTC' }).toISO() ?? at.toISOString();
}
