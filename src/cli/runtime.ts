// What a command needs from its surroundings, resolved only when the command runs: the API
// commands never load the service's settings (DATABASE_URL…), the database commands never need
// BULLETIN_TOKEN.
import { loadCliConfig, loadConfig, type CliConfig, type Config } from '../config.js';
import { ApiClient } from './api-client.js';
import { missingToken } from './errors.js';
import { createProgress, type Progress } from './progress.js';

export interface Io {
  out: NodeJS.WritableStream;
  /** Progress and diagnostics; a terminal or not decides how progress is drawn. */
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export const io: Io = { out: process.stdout, err: process.stderr };

export function cliConfig(): CliConfig {
  return loadCliConfig();
}

/** Throws a ConfigError (exit 78) naming the variable when a setting is invalid. */
export function serviceConfig(): Config {
  return loadConfig();
}

export function apiClient(config: CliConfig = cliConfig()): ApiClient {
  if (!config.token) throw missingToken();
  return new ApiClient({ url: config.url, token: config.token });
}

/** A progress display on stderr (a bar on a terminal, lines otherwise), as the watches use. */
export function progressOnStderr(label: string, unit: string, rateUnit: string): Progress {
  return createProgress({ label, unit, rateUnit, stream: io.err });
}
