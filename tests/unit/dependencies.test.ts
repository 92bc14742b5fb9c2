// The dependency review of docs/dependencies.md, kept true: exact versions only, every package
// from the public npm registry, and no install script beyond the two reviewed ones.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/lib/paths.js';

// semver is in the tree (BullMQ's); typed here for the two calls the test makes.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
};

const read = (file: string) =>
  JSON.parse(readFileSync(path.join(packageRoot(), file), 'utf8')) as Record<string, unknown>;
const pkg = read('package.json') as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = read('package-lock.json') as {
  packages: Record<string, { resolved?: string; hasInstallScript?: boolean; version?: string }>;
};

describe('dependencies', () => {
  it('are pinned to exact versions (nothing floats onto a Node 22-only release)', () => {
    const loose = Object.entries({ ...pkg.dependencies, ...pkg.devDependencies }).filter(
      ([, version]) => !/^\d+\.\d+\.\d+$/.test(version),
    );
    expect(loose).toEqual([]);
  });

  it('match the lockfile exactly', () => {
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
    }
  });

  it('all come from the public npm registry', () => {
    const elsewhere = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && p.resolved !== undefined)
      .filter(([, p]) => !p.resolved!.startsWith('https://registry.npmjs.org/'))
      .map(([name]) => name);
    expect(elsewhere).toEqual([]);
  });

  it('have no install script beyond the reviewed ones (npm 11 does not run them anyway)', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([name]) => name)
      .sort();
    expect(withScripts).toEqual([
      'node_modules/@scarf/scarf',
      'node_modules/esbuild',
      'node_modules/msgpackr-extract',
    ]);
  });
});

describe('the whole installed tree', () => {
  const lockPackages = lock.packages as Record<string, { engines?: { node?: string } | string[] }>;
  const floor = semver.minVersion(
    (pkg as unknown as { engines: { node: string } }).engines.node,
  )!.version;

  it('supports the Node version package.json promises (engines), every package of it', () => {
    const refusing = Object.entries(lockPackages)
      .filter(([name]) => name !== '')
      .flatMap(([name, p]) => {
        const range = Array.isArray(p.engines) ? undefined : p.engines?.node;
        if (!range) return [];
        return [floor, process.versions.node].some((v) => !semver.satisfies(v, range))
          ? [`${name} wants node ${range}`]
          : [];
      });
    expect(refusing).toEqual([]);
  });

  it("the nopt override (js-beautify's option parser) works: the html-beautify CLI parses its flags", () => {
    const out = execFileSync(
      process.execPath,
      [
        path.join(packageRoot(), 'node_modules/js-beautify/js/bin/html-beautify.js'),
        '--indent-size',
        '3',
      ],
      { input: '<div><p>x</p></div>' },
    ).toString();
    expect(out).toBe('<div>\n   <p>x</p>\n</div>');
  });
});
