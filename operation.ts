/**
 * One op, built and not yet submitted: {@linkcode Operation} and the
 * checks every op builder shares (link flags, descriptors, 32-bit
 * arguments). The builders are in submit.ts and msg.ts.
 *
 * @module
 */
import { errnoError, type IoError } from "./errors.ts";
import { SQE_FLAG } from "./ffi/layout.ts";
import type { Reactor } from "./reactor.ts";
import type { RawOp } from "./sqe.ts";
import { type IoRegion, ioRelease } from "./iomem.ts";

/** How an op links to the next one in its batch. */
export type Link = "soft" | "hard";

/** Options every op builder takes. */
export interface LinkOptions {
  /** Link to the next op of the batch: "soft" runs it only on success, "hard" always. */
  link?: Link;
}

/** C-owned regions of ops that were built but never submitted, returned when the op is collected. */
const unsubmitted = new FinalizationRegistry<IoRegion[]>((regions) => {
  for (const r of regions) if (r.busy) ioRelease(r);
});

/**
 * One op, ready to be submitted once: built by {@linkcode op}, run by
 * {@linkcode single} or {@linkcode multi}. `T` is its result type.
 *
 * The memory C uses is its own (C-owned regions, see iomem.ts): a read
 * is copied into the caller's buffer when it completes, a write was copied
 * when the op was built, so whatever JS does to the buffer meanwhile
 * (transfer, resize, detach, collection) cannot reach C. If the buffer of
 * a read was detached or shrank below the bytes that arrived, the op fails
 * with a TypeError whose `received` holds them (a `BufferLostError`).
 * A view of more than 4 KiB on a `SharedArrayBuffer` is used in place.
 */
export class Operation<T> {
  /** The op's name, used in errors ("recv", "connect"). */
  readonly name: string;
  /** The submission entry. */
  readonly raw: RawOp;
  /** What must stay alive until the op completes (the reactor holds it). */
  readonly keep: unknown;
  readonly #map: (res: number) => T;
  readonly #context?: string;
  readonly #mapsErrors: boolean;
  #id = -1;
  #reactor?: Reactor;
  #regions?: IoRegion[];
  #uses = 0;

  /**
   * Builds an op; prefer the {@linkcode op} builders. `map` turns a result
   * into the op's value (a negative errno becomes an error first, unless
   * `mapsErrors`); see {@linkcode OpExtras} for the rest.
   */
  constructor(name: string, raw: RawOp, map: (res: number) => T, extras: OpExtras = {}) {
    this.name = name;
    this.raw = raw;
    this.#map = map;
    this.#context = extras.context;
    this.#mapsErrors = extras.mapsErrors ?? false;
    const { keep, regions } = extras;
    if (regions?.length) {
      this.#regions = regions;
      // the reactor holds `keep` until completion: so the op, and its regions, stay
      this.keep = [keep, this];
      unsubmitted.register(this, regions, this);
    } else {
      this.keep = keep;
    }
  }

  /** Maps a raw result to the op's value, or an error for -errno. */
  result(res: number): T | IoError {
    try {
      if (res < 0 && !this.#mapsErrors) return errnoError(res, this.name, this.#context);
      return this.#map(res);
    } finally {
      // C is done with the regions once every submission of this op completed
      if (--this.#uses <= 0 && this.#regions) {
        const regions = this.#regions;
        this.#regions = undefined;
        unsubmitted.unregister(this);
        for (const r of regions) ioRelease(r);
      }
    }
  }

  /** The user_data id once submitted (-1 before). */
  get id(): number {
    return this.#id;
  }

  /** @internal Records where the op was submitted. */
  submitted(id: number, r: Reactor): void {
    this.#uses++; // counted even when it throws: the entry went to C all the same
    if (this.#id !== -1) throw new TypeError(`Cannot submit op "${this.name}" twice`);
    this.#id = id;
    this.#reactor = r;
  }

  /** @internal The reactor it went to. */
  get reactor(): Reactor | undefined {
    return this.#reactor;
  }
}

/** What an {@linkcode Operation} may carry besides its entry and its mapping. */
export interface OpExtras {
  /** What must stay alive until the op completes (the reactor holds it). */
  keep?: unknown;
  /**
   * @internal C-owned regions the entry points into: released once the op
   * completed (or, if it is never submitted, once it is collected).
   */
  regions?: IoRegion[];
  /** What a failure says was being done: "Cannot connect to 127.0.0.1:80"; default "Cannot <name>". */
  context?: string;
  /** `map` receives negative results too (timeouts: -ETIME is their value). */
  mapsErrors?: boolean;
}

/** @internal A fresh entry with the link flag of `o`, for an encoder to fill. */
export function entry(o?: LinkOptions): RawOp {
  return { op: 0, fd: -1, flags: linkFlag(o) };
}

function linkFlag(o?: LinkOptions): number {
  if (!o?.link) return 0;
  if (o.link === "soft") return SQE_FLAG.LINK;
  if (o.link === "hard") return SQE_FLAG.HARDLINK;
  throw new TypeError(`Cannot link with "${o.link}": expected "soft" or "hard"`);
}

/** @internal `fd` as an entry takes it, or a TypeError/RangeError. */
export function checkFd(fd: number, what: string): number {
  if (typeof fd !== "number" || !Number.isInteger(fd)) {
    throw new TypeError(`Cannot ${what}: fd must be an integer, got ${fd}`);
  }
  if (fd < -(2 ** 31) || fd > 2 ** 31 - 1) { // a negative fd reaches C: EBADF, as the kernel says
    throw new RangeError(`Cannot ${what}: fd must be a 32-bit integer, got ${fd}`);
  }
  return fd;
}

/** A 32-bit integer argument (socket's domain, type, protocol). */
export function checkInt(v: number, what: string, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(`Cannot ${what}: ${field} must be an integer, got ${v}`);
  }
  if (v < -(2 ** 31) || v > 2 ** 32 - 1) {
    throw new RangeError(`Cannot ${what}: ${field} must be a 32-bit integer, got ${v}`);
  }
  return v;
}
