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
