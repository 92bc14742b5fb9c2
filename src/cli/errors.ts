// What the CLI can fail with, and the exit code each failure means (docs/cli.md lists them).

export const EXIT = {
  ok: 0,
  /** The API refused, could not be reached, or the work itself failed (an import, a campaign). */
  failure: 1,
  /** A setting is missing or invalid (BSD sysexits EX_CONFIG, as the service uses). */
  config: 78,
  /** Interrupted with Ctrl-C. */
  interrupted: 130,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
    /** Extra lines printed under the message, indented. */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function missingToken(): CliError {
  return new CliError(
    'BULLETIN_TOKEN is not set: set it to an API token (or the ADMIN_TOKEN) to use this command, ' +
      'e.g. export BULLETIN_TOKEN=bt_…',
    EXIT.config,
  );
}
