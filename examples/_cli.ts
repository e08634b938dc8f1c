/**
 * The examples' command lines: `--help` prints the usage and exits 0; an
 * unknown flag, a missing argument or a bad number prints one line to
 * stderr and exits 2 (no stack trace); {@linkcode Cli.run} turns a runtime
 * error into one line and exit 1.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** One flag: `--name VALUE` (string) or `--name` (boolean). */
export interface Flag {
  /** A value flag or a switch. */
  type: "string" | "boolean";
  /** Its value when not given. */
  default?: string | boolean;
}

/** Bounds of {@linkcode Cli.number}. */
export interface NumberOptions {
  /** Smallest accepted value (default 0). */
  min?: number;
  /** Largest accepted value (default `Number.MAX_SAFE_INTEGER`). */
  max?: number;
  /** Whether a fraction is accepted (default false). */
  fraction?: boolean;
}

/** A parsed command line. */
export class Cli {
  /** The program's name, for messages. */
  readonly name: string;
  /** The positional arguments. */
  readonly positionals: string[];
  readonly #values: Record<string, string | boolean | undefined>;
  readonly #usage: string;

  /** Parses `args` against `flags`; prints `usage` for `--help`. */
  constructor(
    name: string,
    usage: string,
    flags: Record<string, Flag>,
    args: string[] = Deno.args,
    positionals = false,
  ) {
    this.name = name;
    this.#usage = usage.trim();
    if (args.includes("--help") || args.includes("-h")) {
      console.log(this.#usage);
      Deno.exit(0);
    }
    try {
      const parsed = parseArgs({
        args,
        options: flags,
        allowPositionals: positionals,
        strict: true,
      });
      this.#values = parsed.values as Record<string, string | boolean | undefined>;
      this.positionals = parsed.positionals;
    } catch (e) {
      this.fail((e as Error).message.split("\n")[0].split(". To specify a positional")[0]);
    }
  }

  /** Prints `${name}: ${message} (see --help)` to stderr and exits 2. */
  fail(message: string): never {
    console.error(`${this.name}: ${message} (see --help)`);
    Deno.exit(2);
  }

  /** Prints the usage to stderr and exits 2 (a command given no arguments at all). */
  usage(): never {
    console.error(this.#usage);
    Deno.exit(2);
  }

  /** A string flag's value (or its default). */
  string(flag: string): string | undefined {
    const v = this.#values[flag];
    return typeof v === "string" ? v : undefined;
  }

  /** A boolean flag. */
  flag(flag: string): boolean {
    return this.#values[flag] === true;
  }

  /** A numeric flag within bounds; `undefined` if absent with no default. */
  number(flag: string, options: NumberOptions = {}): number | undefined {
    const text = this.string(flag);
    if (text === undefined) return undefined;
    const { min = 0, max = Number.MAX_SAFE_INTEGER, fraction = false } = options;
    const n = text.trim() === "" ? NaN : Number(text);
    if (!Number.isFinite(n) || (!fraction && !Number.isInteger(n)) || n < min || n > max) {
      this.fail(
        `--${flag} must be ${
          fraction ? "a number" : "an integer"
        } in ${min}..${max}, got "${text}"`,
      );
    }
    return n;
  }

  /** A numeric flag that must be given. */
  required(flag: string, options: NumberOptions = {}): number {
    return this.number(flag, options) ?? this.fail(`--${flag} is required`);
  }

  /** Runs `main`; a thrown error becomes one line on stderr and exit status 1. */
  async run(main: () => Promise<void> | void): Promise<void> {
    try {
      await main();
    } catch (e) {
      console.error(`${this.name}: ${(e as Error).message}`);
      Deno.exit(1);
    }
  }
}
