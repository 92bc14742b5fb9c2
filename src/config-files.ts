// Reading config/*.json and the error every configuration problem becomes. No environment is
// read here: config.ts is the one reader of process.env.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; message: string }[]) {
    super(
      'Invalid configuration:\n' +
        problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n') +
        '\nSet the variable in the environment or fix it in config/*.json.',
    );
    this.name = 'ConfigError';
  }

  /** Each zod issue names its setting: the first element of its path. */
  static fromIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]) {
    return new ConfigError(
      issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(config)'),
        message: issue.message,
      })),
    );
  }
}

function readJson(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([
      { variable: path.basename(file), message: `is not valid JSON (${(error as Error).message})` },
    ]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([{ variable: path.basename(file), message: 'must hold a JSON object' }]);
  }
  return parsed as Record<string, unknown>;
}

export function readConfigFiles(
  dir: string,
  nodeEnv: string,
  known: Record<string, unknown>,
): Record<string, unknown> {
  const files = ['default.json', ...(/^[a-z]+$/.test(nodeEnv) ? [`${nodeEnv}.json`] : [])];
  const layered: Record<string, unknown> = {};
  const unknownKeys: { variable: string; message: string }[] = [];
  for (const file of files) {
    const values = readJson(path.join(dir, file));
    // A typo in a file ("PROT") would otherwise be ignored without a word.
    for (const key of Object.keys(values)) {
      if (!(key in known)) {
        unknownKeys.push({ variable: key, message: `is not a known setting (in config/${file})` });
      }
    }
    Object.assign(layered, values);
  }
  if (unknownKeys.length > 0) throw new ConfigError(unknownKeys);
  return layered;
}
