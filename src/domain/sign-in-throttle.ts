// Sign-in throttling per address (docs/accounts.md): after MAX_FAILURES failed attempts for one
// address within WINDOW_MS, that address is refused until the oldest of them leaves the window,
// whichever client asks. Counting per address, not per client, is what stops a password guesser
// who rotates IP addresses; the cost is that someone can lock an account out for 15 minutes.
export const MAX_FAILURES = 10;
export const WINDOW_MS = 15 * 60 * 1000;

/** The key failures are counted under: the address as typed, trimmed and lower-cased. */
export function throttleKey(email: string): string {
  return email.trim().normalize('NFC').toLowerCase().slice(0, 320);
}

/**
 * Seconds until the address may try again, or 0 when it may now. `failures` are the times of
 * the latest failures within the window, oldest first.
 */
export function retryAfterSeconds(failures: readonly Date[], now: Date): number {
  if (failures.length < MAX_FAILURES) return 0;
  const oldest = failures[failures.length - MAX_FAILURES]!;
  const wait = oldest.getTime() + WINDOW_MS - now.getTime();
  return wait > 0 ? Math.ceil(wait / 1000) : 0;
}
