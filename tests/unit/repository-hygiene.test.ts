// House rules that a reader relies on, kept true: SQL lives under src/db/ only, and the
// repository stands on its own (it cites docs/, never a file outside it or an issue number).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/lib/paths.js';

const root = packageRoot();
const tracked = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
  cwd: root,
})
  .toString()
  .split('\n')
  .filter(Boolean)
  .filter((f) => !f.startsWith('docs/bench/'))
  // A file deleted in the work tree but not yet in git's index.
  .filter((f) => existsSync(path.join(root, f)));
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

describe('the code base', () => {
  it('runs SQL only in src/db/', () => {
    const outside = tracked
      .filter((f) => /^(src|workers)\/.*\.ts$/.test(f) && !f.startsWith('src/db/'))
      .filter((f) => /\.query(<|\()/.test(read(f)));
    expect(outside).toEqual([]);
  });

  it('cites docs/, never the product contract file or an issue number', () => {
    const text = tracked.filter(
      (f) => /\.(ts|md|json|yml|mjml|js)$/.test(f) && f !== 'package-lock.json',
    );
    const citing = text.filter((f) => {
      const content = read(f);
      // Spelled in two parts so this test does not cite it either.
      return content.includes(['PRODUCT', 'md'].join('.')) || /\bissue #?\d+/i.test(content);
    });
    expect(citing).toEqual([]);
  });

  it('imports one way: workers/ and main.ts use src/, src/ never imports them', () => {
    const src = tracked.filter((f) => /^src\/.*\.ts$/.test(f));
    const upward = src.filter((f) => /from '(\.\.\/)+(workers|main)(\/|\.js')/.test(read(f)));
    expect(upward).toEqual([]);
    expect(src.length).toBeGreaterThan(50);
  });

  it('patches nothing global on import: no zod extension, no process-wide pg type parsers', () => {
    const code = tracked.filter((f) => /^(src|workers)\/.*\.ts$/.test(f) || f === 'main.ts');
    const patching = code.filter((f) =>
      /extendZodWithOpenApi\(|pg\.types\.setTypeParser|types\.setTypeParser\(/.test(read(f)),
    );
    expect(patching).toEqual([]);
  });
});
