// Argument parsers shared by the commands: commander reports their errors with the usage.
import { InvalidArgumentError, type Command } from 'commander';

export function positiveInt(value: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(value))
    throw new InvalidArgumentError('must be a positive whole number');
  return Number(value);
}

export function intervalMs(value: string): number {
  const n = positiveInt(value);
  if (n < 100) throw new InvalidArgumentError('must be at least 100 (milliseconds)');
  return n;
}

/** A `campaign` subcommand that takes the campaign id as its first argument. */
export function campaignCommand(campaign: Command, name: string, description: string): Command {
  return campaign
    .command(name)
    .description(description)
    .argument('<id>', 'campaign id', positiveInt);
}
