/**
 * The reactor: one C loop, fed in batches. Everything submitted in one
 * microtask tick reaches C in one `ario_submit` call, and every ready
 * completion comes back in one `ario_reap` call. A C thread rings a
 * thread-safe callback (the doorbell) when the loop has work while JS is
 * idle; while JS is busy, completions are reaped from the same microtask
 * flush that submits, with no thread hop at all.
 *
 * @module
 */
import { load } from "./ffi/load.ts";
import type { Symbols } from "./ffi/symbols.ts";
import { BACKEND, type BackendName, CANCEL, CQE, OP, PARAMS, SQE } from "./ffi/layout.ts";
import { constants, errnoError } from "./errors.ts";

/** Options of {@linkcode Reactor}. */
export interface ReactorOptions {
  /** Ops the C loop holds at once (more wait in JS): 1..65534, default 4096. */
  entries?: number;
  /** Backend to run; default the build's choice (or `ARIO_BACKEND`). */
  backend?: BackendName;
}

/** Receives an op's raw result: a value, or a negative errno. */
export type Completion = (res: number) => void;

/** Memory C may read or write: a view or a whole buffer. */
export type Bytes = ArrayBufferView<ArrayBufferLike> | ArrayBufferLike;

/** The fields of one submission entry, as `ario_sqe` holds them. */
export interface RawOp {
  /** Opcode (`OP`). */
  op: number;
  /** Descriptor, or -1. */
  fd: number;
  /** `ARIO_SQE_*` link flags. */
  flags?: number;
  /** First address: a buffer or socket address, or its numeric value. */
  addr?: Bytes | number;
  /** Second address. */
  addr2?: Bytes | number;
  /** Length. */
  len?: number;
  /** Per-op flags. */
  opFlags?: number;
  /** Offset, nanoseconds or length, by op (bigint for full 64-bit values). */
  off?: number | bigint;
  /** Whether this op keeps the process alive (default true). */
  ref?: boolean;
}

const U32 = 2 ** 32;
const SQE_WORDS = SQE.size / 4;
const CQE_WORDS = CQE.size / 4;
/** Flushes in a row served from microtasks before yielding to the event loop. */
const MICROTASK_BUDGET = 64;

const bases = new WeakMap<ArrayBufferLike, number>();

/** Numeric address of a buffer's first byte (cached per ArrayBuffer). */
export function addressOf(buf: Bytes): number {
  const ab = ArrayBuffer.isView(buf) ? buf.buffer : buf;
  let base = bases.get(ab);
  if (base === undefined) {
    const p = Deno.UnsafePointer.of(ab as ArrayBuffer);
    if (p === null) {
      if (ab.byteLength === 0) return 0;
      throw new TypeError("Cannot use buffer: it is detached");
    }
    base = Number(Deno.UnsafePointer.value(p));
    bases.set(ab, base);
  }
  return ArrayBuffer.isView(buf) ? base + buf.byteOffset : base;
}

function toAddress(v: Bytes | number | undefined): number {
  if (v === undefined) return 0;
  return typeof v === "number" ? v : addressOf(v);
}

/**
 * One C event loop and its JS side. Most programs use the shared
 * {@linkcode reactor}; a second one is useful to pick another backend.
 *
 * @example Create a reactor on the poll backend and run a timeout
 * ```ts
 * import { Reactor } from "@ario/ario";
 * const r = new Reactor({ backend: "poll" });
 * console.log(r.backend); // "poll"
 * await r.timeout(1_000_000); // 1 ms
 * await r.close();
 * ```
 */
export class Reactor {
  readonly #lib: Symbols;
  readonly #mem: Uint8Array;
  readonly #loop: Deno.PointerObject;
  readonly #entries: number;
  // staging: encoded entries not yet consumed by C
  readonly #sq: Uint8Array;
  readonly #sqU32: Uint32Array;
  #sqLen = 0;
  readonly #overflow: Uint32Array[] = [];
  readonly #cq: Uint8Array;
  readonly #cqU32: Uint32Array;
  readonly #cqI32: Int32Array;
  // in flight, by id (the low half of user_data; the high half is a generation)
  #handlers: (Completion | undefined)[] = [];
  #keep: unknown[] = [];
  #refd: boolean[] = [];
  #gens: number[] = [];
  #free: number[] = [];
  #pending = 0;
  #refs = 0;
  // the doorbell
  readonly #bell: Deno.UnsafeCallback<{ parameters: []; result: "void" }>;
  #bellRefd = false;
  #armed = false;
  #flushQueued = false;
  #idleQueued = false;
  #budget = 0;
  #closed = false;
  #closing?: Promise<void>;
  readonly #unload = () => this.#stopBell();

  /** Creates a C loop with its own memory and doorbell thread. */
  constructor(options: ReactorOptions = {}) {
    const entries = options.entries ?? 4096;
    if (!Number.isInteger(entries) || entries < 1 || entries > 65534) {
      throw new RangeError(`Cannot create reactor: entries must be 1..65534, got ${entries}`);
    }
    const backend = options.backend === undefined ? 0 : BACKEND[options.backend];
    if (backend === undefined) {
      throw new TypeError(`Cannot create reactor: unknown backend "${options.backend}"`);
    }
    this.#lib = load();
    const params = new Uint32Array(PARAMS.size / 4);
    params[PARAMS.entries / 4] = entries;
    params[PARAMS.backend / 4] = backend;
    const size = Number(this.#lib.ario_mem_size(params));
    if (size === 0) {
      throw new Error(`Cannot create reactor: backend "${options.backend}" is not built in`);
    }
    // 16-byte alignment: a Float64Array's buffer is at least 8-aligned; take 16 more and align.
    const raw = new Uint8Array(size + 16);
    const shift = (16 - (addressOf(raw) % 16)) % 16;
    this.#mem = raw.subarray(shift, shift + size);
    this.#loop = Deno.UnsafePointer.create(BigInt(addressOf(this.#mem)))!;
    const rc = this.#lib.ario_init(this.#loop, BigInt(size), params);
    if (rc < 0) throw errnoError(rc, "init", `Cannot create reactor`);
    this.#entries = entries;
    this.#sq = new Uint8Array(entries * SQE.size);
    this.#sqU32 = new Uint32Array(this.#sq.buffer);
    this.#cq = new Uint8Array(Math.min(entries, 1024) * CQE.size);
    this.#cqU32 = new Uint32Array(this.#cq.buffer);
    this.#cqI32 = new Int32Array(this.#cq.buffer);

    this.#bell = Deno.UnsafeCallback.threadSafe(
      { parameters: [], result: "void" },
      () => this.#onBell(),
    );
    this.#bell.unref(); // nothing in flight yet: do not keep the process alive
    const started = this.#lib.ario_bell_start(this.#loop, this.#bell.pointer);
    if (started < 0) {
      this.#bell.close();
      this.#lib.ario_deinit(this.#loop);
      throw errnoError(started, "bell_start", "Cannot create reactor");
    }
    globalThis.addEventListener("unload", this.#unload);
    watchFatalErrors(this.#lib);
  }

  /** Name of the backend the C loop runs. */
  get backend(): BackendName {
    const id = this.#lib.ario_backend(this.#loop);
    return (Object.keys(BACKEND) as (keyof typeof BACKEND)[]).find((k) =>
      BACKEND[k] === id
    ) as BackendName;
  }

  /** Ops submitted and not yet completed (staged in JS or in C). */
  get pending(): number {
    return this.#pending;
  }

  /** Op capacity of the C loop. */
  get entries(): number {
    return this.#entries;
  }

  /** Whether {@linkcode Reactor.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The loop's pointer, for C code that shares it. */
  get unsafeLoop(): Deno.PointerObject {
    return this.#loop;
  }

  /**
   * Queues a chain of raw ops (linked by their `flags`) and calls `done`
   * with each op's raw result, in completion order. Returns the user_data
   * ids (for {@linkcode Reactor.cancel}). Throws if closed.
   */
  submitRaw(ops: readonly RawOp[], done: Completion[], keep?: unknown): number[] {
    const n = ops.length;
    const ids: number[] = new Array(n);
    const at = this.#reserve(n);
    const words = at < 0 ? new Uint32Array(n * SQE_WORDS) : this.#sqU32;
    const base = at < 0 ? 0 : at;
    // encode first (it may throw on a bad buffer) so nothing half-registers
    for (let k = 0; k < n; k++) encode(words, base + k * SQE_WORDS, ops[k]);
    for (let k = 0; k < n; k++) {
      ids[k] = this.#register(words, base + k * SQE_WORDS, done[k], keep, ops[k].ref !== false);
    }
    if (at < 0) this.#overflow.push(words);
    else this.#sqLen += n;
    this.#schedule();
    return ids;
  }

  /** Queues one raw op; resolves with its raw result (a value or -errno). */
  raw(op: RawOp, keep?: unknown): Promise<number> {
    return new Promise((resolve) => this.rawCallback(op, resolve, keep));
  }

  /**
   * Queues one raw op and calls `done` with its raw result: the fast path
   * (no promise, no arrays). Returns the op's id.
   */
  rawCallback(op: RawOp, done: Completion, keep?: unknown): number {
    const at = this.#reserve(1);
    const words = at < 0 ? new Uint32Array(SQE_WORDS) : this.#sqU32;
    const base = at < 0 ? 0 : at;
    encode(words, base, op);
    const id = this.#register(words, base, done, keep, op.ref !== false);
    if (at < 0) this.#overflow.push(words);
    else this.#sqLen++;
    this.#schedule();
    return id;
  }

  /** Word index in the staging area for n entries, or -1 to use the overflow queue. */
  #reserve(n: number): number {
    if (this.#closed) throw new Error("Cannot submit: the reactor is closed");
    if (n > this.#entries) {
      throw new RangeError(
        `Cannot submit: a chain of ${n} ops exceeds the reactor's ${this.#entries} entries`,
      );
    }
    return this.#overflow.length === 0 && this.#sqLen + n <= this.#entries
      ? this.#sqLen * SQE_WORDS
      : -1;
  }

  /**
   * Waits `ns` nanoseconds (or until the absolute monotonic time `ns` with
   * `abs`) in the C loop; resolves with the raw result (-ETIME when it
   * fired). Unref'd timeouts do not keep the process alive.
   */
  timeout(
    ns: number | bigint,
    options: { abs?: boolean; ref?: boolean; count?: number } = {},
  ): Promise<number> {
    return this.raw({
      op: OP.TIMEOUT,
      fd: -1,
      off: ns,
      opFlags: options.abs ? 1 : 0,
      len: options.count ?? 0,
      ref: options.ref,
    });
  }

  /** The full user_data of a pending op id (its generation in the high half). */
  userData(id: number): number {
    return id + this.#gens[id] * U32;
  }

  /** Asks C to cancel the op with this id, if it is still pending. */
  cancel(id: number): void {
    if (this.#closed || id < 0 || this.#handlers[id] === undefined) return;
    this.submitRaw([{ op: OP.CANCEL, fd: -1, addr: this.userData(id), ref: false }], [noop]);
  }

  /** Monotonic clock of the C loop, in nanoseconds. */
  now(): bigint {
    return BigInt(this.#lib.ario_now());
  }

  /**
   * Cancels everything in flight (each op completes with -ECANCELED), stops
   * the doorbell thread and frees the loop. Safe to call twice.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    this.#closing = this.#shutdown();
    return this.#closing;
  }

  /** Same as {@linkcode Reactor.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #shutdown(): Promise<void> {
    globalThis.removeEventListener("unload", this.#unload);
    // staged ops never reached C: complete them here
    this.#sqLen = 0;
    this.#overflow.length = 0;
    const ecanceled = -(constants.ECANCELED);
    const cancelAll = new Uint32Array(SQE_WORDS);
    encode(cancelAll, 0, { op: OP.CANCEL, fd: -1, opFlags: CANCEL.ANY | CANCEL.ALL });
    cancelAll[SQE.user_data / 4] = 0xFFFFFFFF;
    this.#lib.ario_submit(this.#loop, new Uint8Array(cancelAll.buffer), 1);
    // readiness backends cancel at once; io_uring's cancellations land within a few reaps
    for (let spins = 0; this.#lib.ario_inflight(this.#loop) > 0 && spins < 200; spins++) {
      this.#reapAll(spins === 0 ? 0n : 1_000_000n);
    }
    for (let id = 0; id < this.#handlers.length; id++) {
      if (this.#handlers[id]) this.#complete(id, ecanceled);
    }
    while (this.#stopBell() === -constants.EBUSY) {
      await new Promise((r) => setTimeout(r, 0)); // let the ringing thread return
    }
    this.#bell.close();
    this.#lib.ario_deinit(this.#loop);
  }

  #stopBell(): number {
    return this.#lib.ario_bell_stop(this.#loop);
  }

  #register(w: Uint32Array, at: number, done: Completion, keep: unknown, ref: boolean): number {
    const id = this.#free.length ? this.#free.pop()! : this.#handlers.length;
    this.#handlers[id] = done;
    this.#keep[id] = keep;
    this.#refd[id] = ref;
    const gen = ((this.#gens[id] ?? 0) + 1) >>> 0;
    this.#gens[id] = gen;
    w[at + SQE.user_data / 4] = id;
    w[at + SQE.user_data / 4 + 1] = gen;
    this.#pending++;
    if (ref && this.#refs++ === 0 && !this.#bellRefd) {
      this.#bell.ref();
      this.#bellRefd = true;
    }
    return id;
  }

  #complete(id: number, res: number): void {
    const done = this.#handlers[id]!;
    this.#handlers[id] = undefined;
    this.#keep[id] = undefined;
    this.#free.push(id);
    this.#pending--;
    if (this.#refd[id]) this.#refs--;
    done(res);
  }

  #schedule(): void {
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushTask);
    }
  }

  readonly #flushTask = () => {
    this.#flushQueued = false;
    if (this.#closed) return;
    this.#flush(++this.#budget <= MICROTASK_BUDGET);
  };

  #onBell(): void {
    this.#armed = false;
    this.#budget = 0;
    if (!this.#closed) this.#flush(true);
  }

  /**
   * Submits what is staged and, when `reap`, dispatches what is ready. The
   * doorbell is armed only once JS goes idle: while completions keep
   * coming, the continuations they wake submit again and the next flush
   * reaps, with no thread in the way.
   */
  #flush(reap: boolean): void {
    let activity = false;
    for (;;) {
      const full = this.#submitStaged();
      if (!reap) break;
      const n = this.#reapAll(0n);
      if (n > 0) activity = true;
      if (!full || n === 0) break; // the table had no room: reaping made some
    }
    if (this.#refs === 0 && this.#bellRefd) {
      this.#bell.unref();
      this.#bellRefd = false;
    }
    if (!activity) this.#idle();
    else if (!this.#idleQueued) {
      this.#idleQueued = true;
      queueMicrotask(this.#idleCheck);
    }
  }

  readonly #idleCheck = () => {
    this.#idleQueued = false;
    if (!this.#flushQueued && !this.#closed) this.#idle();
  };

  /** Nothing more to do now: have the doorbell ring when C has work. */
  #idle(): void {
    if (this.#pending > 0 && !this.#armed) {
      this.#armed = true;
      this.#lib.ario_bell_arm(this.#loop);
    }
  }

  /** Hands staged entries to C; true if C's table filled before all fit. */
  #submitStaged(): boolean {
    while (this.#sqLen > 0) {
      const k = this.#lib.ario_submit(this.#loop, this.#sq, this.#sqLen);
      if (k < this.#sqLen) {
        this.#sqU32.copyWithin(0, k * SQE_WORDS, this.#sqLen * SQE_WORDS);
        this.#sqLen -= k;
        return true;
      }
      this.#sqLen = 0;
      while (this.#overflow.length) {
        const chunk = this.#overflow[0];
        const n = chunk.length / SQE_WORDS;
        if (this.#sqLen + n > this.#entries) break;
        this.#sqU32.set(chunk, this.#sqLen * SQE_WORDS);
        this.#sqLen += n;
        this.#overflow.shift();
      }
    }
    return false;
  }

  /** Reaps and dispatches every ready completion; returns how many. */
  #reapAll(timeoutNs: bigint): number {
    const max = this.#cq.length / CQE.size;
    let total = 0;
    for (;;) {
      const n = this.#lib.ario_reap(this.#loop, this.#cq, max, timeoutNs);
      if (n < 0) throw errnoError(n, "reap", "Cannot reap completions");
      for (let i = 0; i < n; i++) {
        const w = i * CQE_WORDS;
        const id = this.#cqU32[w];
        if (this.#gens[id] !== this.#cqU32[w + 1] || this.#handlers[id] === undefined) continue;
        this.#complete(id, this.#cqI32[w + CQE.res / 4]);
      }
      total += n;
      if (n < max) return total;
      timeoutNs = 0n;
    }
  }
}

function noop(): void {}

let fatalWatched = false;

/**
 * An uncaught error ends the process without `unload`. If the doorbell
 * thread is blocked in a callback JS will never run, Deno's teardown would
 * crash under it; then the error is reported as Deno would and the process
 * leaves through `Deno.exit(1)`, which is safe with the thread there. C is
 * also told the status, for an exit path that gets past this listener.
 */
function watchFatalErrors(lib: Symbols): void {
  if (fatalWatched) return;
  fatalWatched = true;
  const onFatal = (e: Event) => {
    if (e.defaultPrevented) return;
    if (lib.ario_bell_exiting(1) > 0) {
      const rejected = e instanceof PromiseRejectionEvent;
      const err = rejected ? e.reason : (e as ErrorEvent).error;
      console.error(`error: Uncaught ${rejected ? "(in promise) " : ""}${err?.stack ?? err}`);
      Deno.exit(1);
    }
    setTimeout(() => lib.ario_bell_exiting(-1), 0); // only runs if the process survived
  };
  globalThis.addEventListener("error", onFatal);
  globalThis.addEventListener("unhandledrejection", onFatal);
}

/** Writes every field of one entry except user_data (little-endian hosts). */
function encode(w: Uint32Array, at: number, op: RawOp): void {
  w[at] = op.op | ((op.flags ?? 0) << 8); // op, flags, reserved = 0
  w[at + 1] = op.fd >>> 0;
  setU64(w, at + SQE.addr / 4, toAddress(op.addr));
  setU64(w, at + SQE.addr2 / 4, toAddress(op.addr2));
  w[at + SQE.len / 4] = op.len ?? 0;
  w[at + SQE.op_flags / 4] = op.opFlags ?? 0;
  const off = op.off ?? 0;
  if (typeof off === "bigint") {
    w[at + SQE.off / 4] = Number(off & 0xFFFFFFFFn);
    w[at + SQE.off / 4 + 1] = Number((off >> 32n) & 0xFFFFFFFFn);
  } else {
    setU64(w, at + SQE.off / 4, off);
  }
}

function setU64(w: Uint32Array, at: number, v: number): void {
  w[at] = v >>> 0;
  w[at + 1] = v >= U32 ? Math.floor(v / U32) : 0;
}

let shared: Reactor | undefined;

/**
 * The shared reactor, created on first use (entries 4096, the default
 * backend or `ARIO_BACKEND`).
 *
 * @example
 * ```ts
 * import { reactor } from "@ario/ario";
 * console.log(reactor().backend);
 * ```
 */
export function reactor(): Reactor {
  if (!shared || shared.closed) shared = new Reactor();
  return shared;
}
