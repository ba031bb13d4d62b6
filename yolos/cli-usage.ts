/**
 * What the CLI's commands share: the usage error, the option-value parsers (a bad value is a usage
 * error naming the option and the value) and the exit codes.
 */
import { InvalidArgumentError } from 'commander';

/** A bad command-line argument: the CLI prints its message on one line and exits with code 2. */
export class UsageError extends Error {}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export const EXIT_CODES_HELP = `
Exit codes: 0 done; 1 failure (the message names the file and what was expected); 2 usage error
(unknown option, bad value); 128+N stopped by signal N after writing a checkpoint (train: 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).`;

/** An integer ≥ `min` (default 1). */
export const int =
  (min = 1) =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };

/** A finite number > 0. */
export const positive = (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
};

/** A number in [lo, hi). */
export const inRange =
  (lo: number, hi: number) =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !(n >= lo && n < hi)) throw new InvalidArgumentError(`expected a number in [${lo}, ${hi})`);
    return n;
  };

/** One of `names`. */
export const oneOf =
  (names: readonly string[]) =>
  (v: string): string => {
    if (!names.includes(v)) throw new InvalidArgumentError(`expected one of ${names.join(', ')}`);
    return v;
  };
