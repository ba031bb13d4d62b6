/**
 * The one error a safetensors reader throws on purpose, and the short problem list behind it: a file
 * with 100 000 bad keys gets the first few problems and a count, never megabytes of message.
 */

/** A malformed safetensors file (or one that does not fit the model), named with its problems. */
export class SafetensorsError extends Error {
  /** The file's name when the caller gave one. */
  readonly file?: string;
  /** The first problems found (at most Problems.SHOWN of them). */
  readonly problems: string[];
  /** How many problems there were in all. */
  readonly count: number;

  constructor(message: string, opts: { file?: string; problems?: string[]; count?: number } = {}) {
    super(message);
    this.name = 'SafetensorsError';
    this.file = opts.file;
    this.problems = opts.problems ?? [message];
    this.count = opts.count ?? this.problems.length;
  }
}

/** "safetensors 'model.safetensors'" or "safetensors" when the bytes came without a name. */
export function fileLabel(file: string | undefined, what = 'safetensors'): string {
  return file === undefined ? what : `${what} '${file}'`;
}

/** Collects problems, keeping the first few; `throwIfAny` raises one SafetensorsError for all. */
export class Problems {
  static readonly SHOWN = 5;
  readonly shown: string[] = [];
  count = 0;

  add(problem: string): void {
    if (this.shown.length < Problems.SHOWN) this.shown.push(problem);
    this.count++;
  }

  /** `${prefix}:` then one problem per line, "… and N more" past the first few. */
  throwIfAny(
    prefix: string,
    file?: string,
    ErrorClass: new (m: string, o: { file?: string; problems: string[]; count: number }) => Error = SafetensorsError,
  ): void {
    if (!this.count) return;
    const more = this.count - this.shown.length;
    const lines = more > 0 ? [...this.shown, `… and ${more.toLocaleString('en-US')} more`] : this.shown;
    const head =
      this.count === 1 ? `${prefix}: ${lines[0]}` : `${prefix} (${this.count.toLocaleString('en-US')} problems):\n  ${lines.join('\n  ')}`;
    throw new ErrorClass(head, { file, problems: [...this.shown], count: this.count });
  }
}
