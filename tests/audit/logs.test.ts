// The log audit (docs/contract.md §5, docs/security.md#logs): after `npm test` and `npm run test:faults` ran
// with TEST_LOG_DIR set (.ci/run does), every JSON log line those suites wrote (in-process
// services at `info`, every spawned API and worker process) must be free of tokens, secrets
// and full email addresses. Run alone, with no logs to read, it fails and says why.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/lib/paths.js';

const dir = process.env.TEST_LOG_DIR;

function logLines(): { file: string; line: string }[] {
  if (!dir) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .flatMap((file) =>
      readFileSync(path.join(dir, file), 'utf8')
        .split('\n')
        // Logs are pino's JSON lines; the one-time admin-token banner of a first start is
        // deliberate console output, not a log line.
        .filter((line) => line.startsWith('{"level"'))
        .map((line) => ({ file, line })),
    );
}

function sourceFiles(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every secret literal the test suites configure: `SOMETHING_SECRET: '…'`, tokens, passwords. */
function configuredSecrets(): string[] {
  const found = new Set<string>();
  const assignment =
    /\b[A-Z_]*(?:SECRET|TOKEN|SIGNING_KEY|PRIVATE_KEY|PASSWORD)[A-Z_]*['"]?\s*[:=]\s*['"`]([^'"`\n]{12,})['"`]/g;
  for (const file of sourceFiles(path.join(packageRoot(), 'tests'))) {
    for (const match of readFileSync(file, 'utf8').matchAll(assignment)) found.add(match[1]!);
  }
  return [...found];
}

const lines = logLines();

describe('logs written during the test suites', () => {
  it('were collected (TEST_LOG_DIR set, both suites run first)', () => {
    expect(dir, 'set TEST_LOG_DIR and run npm test and npm run test:faults first').toBeTruthy();
    const files = new Set(lines.map((l) => l.file));
    expect([...files].some((f) => f.startsWith('context-'))).toBe(true);
    expect([...files].some((f) => f.startsWith('process-worker'))).toBe(true);
    expect(lines.length).toBeGreaterThan(200);
  });

  it('hold no secret the tests configured (admin token, SECRET_KEY, webhook secrets)', () => {
    const secrets = configuredSecrets();
    expect(secrets.length).toBeGreaterThan(5);
    const leaks = lines.filter(({ line }) => secrets.some((s) => line.includes(s)));
    expect(leaks.slice(0, 5)).toEqual([]);
  });

  it('hold no API token, no SMTP password, no signed link token, no session and no password hash', () => {
    const patterns = [
      /bt_[A-Za-z0-9_-]{30,}/, // an API token (its 9-character prefix alone is fine)
      /smtps?:\/\/[^/\s"]*:[^@\s"]+@/, // a URL with its password
      /\/(?:unsubscribe|confirm|preferences)\/(?!\[token\])[A-Za-z0-9_-]{16,}/, // a link token
      /Bearer [A-Za-z0-9._~+/=-]{16,}/i,
      /\/admin\/(?:setup|password)\/[A-Za-z0-9_-]{16,}/, // a one-time account link
      /bulletin_session=[A-Za-z0-9_-]{16,}/, // a session cookie
      /scrypt\$\d+\$/, // a password hash
    ];
    const leaks = lines.filter(({ line }) => patterns.some((p) => p.test(line)));
    expect(leaks.slice(0, 5)).toEqual([]);
  });

  it('show subscriber addresses only masked (a***@example.org)', () => {
    const fullAddress = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/u;
    const leaks = lines.filter(({ line }) => fullAddress.test(line));
    expect(leaks.slice(0, 5)).toEqual([]);
  });
});
