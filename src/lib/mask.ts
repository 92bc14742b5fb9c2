// Subscriber addresses are personal data: log lines at `info` and above show them masked
// (`a***@example.org`), keeping the domain operators need to spot a provider's trouble.
// `debug` lines keep them whole, for a developer who turned debug on on purpose.

// Local part: anything an address may hold short of the delimiters JSON and logs use.
const EMAIL =
  /([\p{L}\p{N}!#$%&'*+/=?^_`{|}~-])[\p{L}\p{N}.!#$%&'*+/=?^_`{|}~-]*@((?:[\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]{2,})/gu;

export function maskEmails(text: string): string {
  return text.replace(EMAIL, '$1***@$2');
}

const INFO = 30;

/** Masks one pino JSON line unless it is below `info` (pino writes `{"level":N` first). */
export function maskLogLine(line: string): string {
  const level = /^\{"level":(\d+)/.exec(line);
  if (level && Number(level[1]) < INFO) return line;
  return line.includes('@') ? maskEmails(line) : line;
}

/** Path segments and query values this long are tokens or look like them: never logged. */
const TOKEN_LIKE = 20;

/**
 * The URL as request logs show it. Signed link tokens travel in paths (/unsubscribe/<token>,
 * /PREFERENCES/<token>, /%70references/<token>, under any route, found or not), so the rule is
 * by shape, not by route name: every path segment or query value of TOKEN_LIKE characters or
 * more becomes [redacted], whatever its spelling. Ids, page names and cursors are shorter.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const pathPart = q >= 0 ? url.slice(0, q) : url;
  const path = pathPart
    .split('/')
    .map((segment) => (segment.length >= TOKEN_LIKE ? '[redacted]' : segment))
    .join('/');
  if (q < 0) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq >= 0 ? pair.slice(0, eq) : pair;
      const value = eq >= 0 ? pair.slice(eq + 1) : '';
      const safeKey = key.length >= TOKEN_LIKE ? '[redacted]' : key;
      if (eq < 0) return safeKey;
      return `${safeKey}=${value.length >= TOKEN_LIKE ? '[redacted]' : value}`;
    })
    .join('&');
  return `${path}?${query}`;
}
