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
import { BACKEND, CANCEL, CQE, CQE_F, OP, PARAMS, SQE, SQE_FLAG } from "./ffi/layout.ts";
import type { BackendName } from "./ffi/layout.ts";
import {
  checkRawOp,
  encode,
  isWait,
  prepCancel,
  prepCancelEverything,
  prepTimeout,
  type RawOp,
  stagedOnFd,
} from "./sqe.ts";
import { inWorker, takeOwnedFds, watchFatalErrors, watchWorkerDeath } from "./fatal.ts";
import { constants, errnoError } from "./errors.ts";
import { ioTrim } from "./iomem.ts";
import { freeBufferGroups } from "./bufgroup.ts";
import { Deque } from "./_waiters.ts";

/** Options of {@linkcode Reactor}. */
export interface ReactorOptions {
  /**
   * Ops the C loop holds at once: 1..65518, default 16384 (about 1.3 MiB).
   * More wait in JS, and when they do, the waits that held a slot longest
   * take turns with them, so a table full of idle reads never wedges.
   */
  entries?: number;
  /** Backend to run; default the build's choice (or `ARIO_BACKEND`). */
  backend?: BackendName;
  /**
   * Precise timers: the doorbell rings this many microseconds before a
   * timer is due, and this thread then polls the loop until it is
   * (spinning, not sleeping: a sleep on this VM ends 40 µs late or more),
   * instead of paying the doorbell's thread hops after the deadline.
   * Costs up to this much CPU per timer that fires. 0..10000, default 0
   * (off: timers fire through the doorbell, after the deadline).
   */
  timerLead?: number;
}

/** An op's raw result (a value, or -errno); `more`: a multishot op goes on; `flags`: ario_cqe's. */
export type Completion = (res: number, more: boolean, flags: number) => void;

const U32 = 2 ** 32;
const SQE_WORDS = SQE.size / 4;
const CQE_WORDS = CQE.size / 4;
/** Flushes in a row served from microtasks before yielding to the event loop. */
const MICROTASK_BUDGET = 64;
/** In a Worker, the bound on one `ario_wait` call (ns): JS re-arms it while ops are pending. */
const WORKER_WAIT_NS = 100_000_000n;

/** What the reactor needs of its doorbell: a thread-safe callback, or a stub in a Worker. */
interface Bell {
  ref(): void;
  unref(): void;
  close(): void;
}

/**
 * One C event loop and its JS side. Most programs use the shared
 * {@linkcode sharedReactor}; a second one is useful to pick another backend.
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
  // the loop's memory, from ario_mem_alloc: V8 can never free it under a C thread
  readonly #loop: Deno.PointerObject;
  readonly #entries: number;
  // staging: encoded entries not yet consumed by C
  readonly #sq: Uint8Array;
  readonly #sqU32: Uint32Array;
  #sqLen = 0; // staged entries are [#sqHead, #sqLen): what C took leaves from the front
  #sqHead = 0;
  readonly #overflow = new Deque<Uint32Array>();
  readonly #cq: Uint8Array;
  readonly #cqU32: Uint32Array;
  readonly #cqI32: Int32Array;
  // in flight, by id (the low half of user_data; the high half is a generation)
  #handlers: (Completion | undefined)[] = [];
  #keep: unknown[] = [];
  // per id, typed so the hot path stays cheap: the generation, the F_* flags and, for
  // parkable ops, when C took them and the fd's close count then (grown together)
  #gens = new Uint32Array(64);
  #flags = new Uint8Array(64);
  #since = new Float64Array(64);
  #closesAt = new Uint32Array(64);
  #free: number[] = [];
  #pending = 0;
  #refs = 0;
  // Lanes for staged ops that wait for room (in C's table or the staging
  // area), each a list of chunks of whole chains: cancels and closes that
  // must get past a full table, new ops in order, and ops taken back from
  // a full table so that the ones waiting get their turn (see #rotate).
  readonly #urgent = new Deque<Uint32Array>();
  readonly #parked = new Deque<Uint32Array>();
  #laneOps = 0; // entries in #overflow and #parked
  #parkingCount = 0; // ops with F_PARKING
  #parkables = 0; // F_PARKABLE ops pending (staged or in C)
  #requeuedWaiting = 0; // ops with F_REQUEUED
  #lastRound = 0; // when taken-back ops last had their turn
  #rotation: number[] = []; // tickets of parkable ops in C, oldest first
  #rotHead = 0;
  #rotTimer?: number;
  #shadow = new Uint32Array(0); // each parkable op's entry, to requeue it
  // closes seen per fd number: a wait taken back is requeued only if its fd was not closed
  // since it was submitted (the number may name another file by then)
  readonly #fdCloses = new Map<number, number>();
  // The doorbell. On the main thread a C thread rings a thread-safe
  // callback (fast: a few µs). A Worker can be terminated at any moment,
  // without `unload`, and a C thread calling a callback of its dead isolate
  // crashes the process; there JS instead waits with the `nonblocking`
  // ario_wait (bounded, re-armed by JS), whose late result goes nowhere.
  readonly #bell: Bell;
  readonly #inWorker: boolean;
  #waiting?: Promise<void>; // Worker: the ario_wait call in flight
  #bellRefd = false;
  #armed = false;
  /** ario_set_timer_lead: the doorbell rings this long (ns) before a timer is due. */
  readonly #lead: bigint;
  #kicked = false; // the armed wait was interrupted since it was armed
  #flushQueued = false;
  #idleQueued = false;
  #budget = 0;
  #closed = false;
  #closing?: Promise<void>;
  readonly #unload = () => this.#stopBell();
  #unwatch?: () => void;

  /** Creates a C loop with its own memory and doorbell thread. */
  constructor(options: ReactorOptions = {}) {
    const entries = options.entries ?? DEFAULT_ENTRIES;
    if (!Number.isInteger(entries) || entries < 1 || entries > ENTRIES_MAX) {
      throw new RangeError(
        `Cannot create reactor: entries must be 1..${ENTRIES_MAX}, got ${entries}`,
      );
    }
    const lead = options.timerLead ?? DEFAULT_TIMER_LEAD_US;
    if (!Number.isInteger(lead) || lead < 0 || lead > 10_000) {
      throw new RangeError(`Cannot create reactor: timerLead must be 0..10000 µs, got ${lead}`);
    }
    const backend = options.backend === undefined ? 0 : BACKEND[options.backend];
    if (backend === undefined) {
      throw new TypeError(`Cannot create reactor: unknown backend "${options.backend}"`);
    }
    this.#lib = load();
    ECANCELED ||= -constants.ECANCELED, EINVAL ||= -constants.EINVAL;
    const params = new Uint32Array(PARAMS.size / 4);
    params[PARAMS.entries / 4] = entries;
    params[PARAMS.backend / 4] = backend;
    const size = Number(this.#lib.ario_mem_size(params));
    if (size === 0) {
      throw new Error(`Cannot create reactor: backend "${options.backend}" is not built in`);
    }
    // C-owned (64-aligned): a C thread may still read it after this isolate is gone
    const mem = this.#lib.ario_mem_alloc(BigInt(size));
    if (mem === null) throw new Error(`Cannot create reactor: out of memory (${size} bytes)`);
    this.#loop = mem;
    const rc = this.#lib.ario_init(this.#loop, BigInt(size), params);
    if (rc < 0) {
      this.#lib.ario_mem_free(mem);
      throw errnoError(rc, "init", `Cannot create reactor`);
    }
    this.#entries = entries;
    this.#lead = BigInt(lead * 1000);
    if (lead > 0) {
      this.#lib.ario_set_timer_lead(this.#loop, this.#lead);
      this.#lib.ario_precise_waits(); // this thread's timed reaps end on time
    }
    this.#sq = new Uint8Array(entries * SQE.size);
    this.#sqU32 = new Uint32Array(this.#sq.buffer);
    this.#cq = new Uint8Array(Math.min(entries, 1024) * CQE.size);
    this.#cqU32 = new Uint32Array(this.#cq.buffer);
    this.#cqI32 = new Int32Array(this.#cq.buffer);

    this.#inWorker = inWorker();
    if (this.#inWorker) {
      // no thread-safe callback: a pending wait keeps a Worker alive anyway
      this.#bell = { ref() {}, unref() {}, close() {} };
      this.#unwatch = watchWorkerDeath(() => this.#closed, () => this.#abandon());
      return;
    }
    const bell = Deno.UnsafeCallback.threadSafe(
      { parameters: [], result: "void" },
      () => this.#onBell(),
    );
    bell.unref(); // nothing in flight yet: do not keep the process alive
    const started = this.#lib.ario_bell_start(this.#loop, bell.pointer);
    if (started < 0) {
      bell.close();
      this.#lib.ario_deinit(this.#loop);
      this.#lib.ario_mem_free(mem);
      throw errnoError(started, "bell_start", "Cannot create reactor");
    }
    this.#bell = bell;
    globalThis.addEventListener("unload", this.#unload);
    watchFatalErrors(this.#lib);
  }

  /** The Worker is ending: close every owned descriptor through the loop (it stays allocated). */
  #abandon(): void {
    for (const fd of takeOwnedFds(this)) this.#lib.ario_close(this.#loop, fd);
  }

  /** Name of the backend the C loop runs. */
  get backend(): BackendName {
    const id = this.#lib.ario_backend(this.#loop);
    return (Object.keys(BACKEND) as BackendName[]).find((k) => BACKEND[k] === id)!;
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
   * Queues a batch of raw ops (consecutive ops linked by their `flags`
   * form a chain; a chain never joins another call's ops) and calls
   * `done[k]` once with op k's raw result. Returns each op's ticket, for
   * {@linkcode Reactor.cancel}. A chain left open at the end of the batch
   * (its last op links to nothing) fails: its ops complete -ECANCELED and
   * the last -EINVAL, as in C. Ops beyond the table's capacity wait in JS.
   * Throws if closed, on a malformed field (TypeError/RangeError naming
   * it), or for a chain longer than the reactor's entries.
   */
  submitRaw(ops: readonly RawOp[], done: readonly Completion[], keep?: unknown): number[] {
    if (this.#closed) throw new Error("Cannot submit: the reactor is closed");
    if (!Array.isArray(ops)) throw new TypeError("Cannot submit: ops must be an array");
    const n = ops.length;
    if (n === 1 && Array.isArray(done) && done.length === 1 && !((ops[0]?.flags ?? 0) & LINKS)) {
      return [this.rawCallback(ops[0], done[0], keep)];
    }
    if (!Array.isArray(done) || done.length !== n) {
      throw new TypeError(
        `Cannot submit: expected one completion callback per op, got ${
          Array.isArray(done) ? done.length : typeof done
        } for ${n} ops`,
      );
    }
    // chains: the longest must fit the table; an open one at the end fails
    let longest = 0, run = 0;
    for (let k = 0; k < n; k++) {
      checkRawOp(ops[k], k);
      if (ops[k].op === OP.CLOSE) this.#noteClose(ops[k].fd);
      if (typeof done[k] !== "function") {
        throw new TypeError(`Cannot submit: done[${k}] must be a function`);
      }
      run++;
      if (!((ops[k].flags ?? 0) & LINKS)) {
        if (run > longest) longest = run;
        run = 0;
      }
    }
    if (run > longest) longest = run;
    if (longest > this.#entries) {
      throw new RangeError(
        `Cannot submit: a chain of ${longest} ops exceeds the reactor's ${this.#entries} entries`,
      );
    }
    const m = n - run; // entries that go to C; the open tail never does
    const direct = this.#fits(m);
    const words = direct ? this.#sqU32 : new Uint32Array(m * SQE_WORDS);
    const base = direct ? this.#sqLen * SQE_WORDS : 0;
    // encode first (it may throw on a bad buffer) so nothing half-registers
    for (let k = 0; k < m; k++) encode(words, base + k * SQE_WORDS, ops[k]);
    const tickets: number[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const o = ops[k];
      const at = k < m ? base + k * SQE_WORDS : -1;
      const standalone = !((o.flags ?? 0) & LINKS) &&
        (k === 0 || !((ops[k - 1].flags ?? 0) & LINKS));
      tickets[k] = this.#register(
        words,
        at,
        done[k],
        keep,
        o.ref !== false,
        standalone && isWait(o),
      );
    }
    if (run > 0) { // the open chain: -ECANCELED for its ops, -EINVAL for the last
      const tail = tickets.slice(m);
      queueMicrotask(() => {
        for (let k = 0; k < tail.length; k++) {
          this.#completeTicket(tail[k], k === tail.length - 1 ? EINVAL : ECANCELED);
        }
      });
    }
    if (m > 0) {
      if (direct) this.#sqLen += m;
      else this.#enqueue(this.#overflow, words);
      this.#schedule();
    }
    return tickets;
  }

  /** Queues one raw op; resolves with its raw result (a value or -errno). */
  raw(op: RawOp, keep?: unknown): Promise<number> {
    return new Promise((resolve) => this.rawCallback(op, resolve, keep));
  }

  /**
   * Queues one raw op and calls `done` once with its raw result: the fast
   * path (no promise, no arrays). Returns the op's ticket. An op that
   * links to nothing completes -EINVAL, as in {@linkcode Reactor.submitRaw}.
   */
  rawCallback(op: RawOp, done: Completion, keep?: unknown): number {
    if (this.#closed) throw new Error("Cannot submit: the reactor is closed");
    checkRawOp(op, 0);
    if (typeof done !== "function") throw new TypeError("Cannot submit: done must be a function");
    if ((op.flags ?? 0) & LINKS) return this.submitRaw([op], [done], keep)[0];
    if (op.op === OP.CLOSE) this.#noteClose(op.fd);
    const control = op.op === OP.CANCEL || op.op === OP.CLOSE;
    if (control && (this.#laneOps > 0 || this.#sqLen > this.#sqHead)) { // it may name staged ops
      return this.#submitControl(op, done);
    }
    const direct = this.#fits(1);
    const words = direct ? this.#sqU32 : new Uint32Array(SQE_WORDS);
    const base = direct ? this.#sqLen * SQE_WORDS : 0;
    encode(words, base, op);
    const ticket = this.#register(words, base, done, keep, op.ref !== false, isWait(op));
    if (direct) this.#sqLen++;
    else this.#enqueue(this.#overflow, words);
    this.#schedule();
    return ticket;
  }

  /**
   * Closes `fd` at once through the loop: ops waiting on it in C complete
   * -ECANCELED, and so do ops on it still staged in JS, so none of them
   * can run later on a number that names another file by then. Returns 0
   * or -errno.
   */
  closeFd(fd: number): number {
    if (!Number.isInteger(fd) || fd < 0 || fd > 2 ** 31 - 1) {
      throw new RangeError(`Cannot close: fd must be an integer in 0..2^31-1, got ${fd}`);
    }
    if (this.#closed) return this.#lib.ario_close(null, fd);
    this.#noteClose(fd);
    this.#unstage((w, e) => stagedOnFd(w, e, fd));
    return this.#lib.ario_close(this.#loop, fd);
  }

  /** `fd` is being closed: waits on it that are being taken back must not be requeued. */
  #noteClose(fd: number): void {
    this.#fdCloses.set(fd, (this.#fdCloses.get(fd) ?? 0) + 1);
  }

  /**
   * A CANCEL or CLOSE while ops wait for room: it goes ahead of them (C
   * keeps room for it). What it targets that is still staged in JS is
   * completed -ECANCELED here, and the count added to a CANCEL's result.
   */
  #submitControl(op: RawOp, done: Completion): number {
    const words = new Uint32Array(SQE_WORDS);
    encode(words, 0, op);
    let local = 0;
    if (op.op === OP.CLOSE) {
      local = this.#unstage((w, e) => stagedOnFd(w, e, op.fd >>> 0));
    } else {
      const flags = op.opFlags ?? 0;
      const all = (flags & CANCEL.ALL) !== 0;
      const lo = words[SQE.addr / 4], hi = words[SQE.addr / 4 + 1];
      const match = flags & CANCEL.ANY
        ? () => true
        : flags & CANCEL.FD
        ? (w: Uint32Array, e: number) => stagedOnFd(w, e, op.fd >>> 0)
        : (w: Uint32Array, e: number) =>
          w[e + SQE.user_data / 4] === lo && w[e + SQE.user_data / 4 + 1] === hi;
      local = this.#unstage(match, all ? Infinity : 1);
      if (local > 0 && !all) { // the one it names was still in JS
        const ticket = this.#register(null, -1, done, undefined, false, false);
        queueMicrotask(() => this.#completeTicket(ticket, 0));
        return ticket;
      }
    }
    const count = op.op === OP.CANCEL && local > 0
      ? (res: number) =>
        done(res === -constants.ENOENT ? local : res >= 0 ? res + local : res, false, 0)
      : done;
    const ticket = this.#register(words, 0, count, undefined, op.ref !== false, false);
    this.#urgent.push(words);
    this.#schedule();
    return ticket;
  }

  /** Forgets every staged entry (close: their ops are completed by the caller). */
  #dropStaged(): void {
    this.#sqLen = this.#sqHead = 0;
    this.#overflow.clear();
    this.#parked.clear();
    this.#urgent.clear();
    this.#laneOps = 0;
    this.#requeuedWaiting = 0;
    for (let id = 0; id < this.#flags.length; id++) this.#flags[id] &= ~F_REQUEUED;
    if (this.#rotTimer !== undefined) clearTimeout(this.#rotTimer as unknown as number);
    this.#rotTimer = undefined;
  }

  /** Whether m entries can be staged directly now (nothing waits in a lane, and there is room). */
  #fits(m: number): boolean {
    if (this.#laneOps > 0) return false;
    if (this.#sqLen + m <= this.#entries) return true;
    if (this.#sqLen - this.#sqHead + m > this.#entries) return false;
    this.#compact();
    return true;
  }

  /** Moves the staged entries to the front of the staging area. */
  #compact(): void {
    if (this.#sqHead === 0) return;
    this.#sqU32.copyWithin(0, this.#sqHead * SQE_WORDS, this.#sqLen * SQE_WORDS);
    this.#sqLen -= this.#sqHead;
    this.#sqHead = 0;
  }

  /** Appends entries (whole chains) to a lane, in chunks the staging area can take. */
  #enqueue(lane: Deque<Uint32Array>, words: Uint32Array): void {
    const n = words.length / SQE_WORDS;
    this.#laneOps += n;
    if (n <= this.#entries) {
      lane.push(words);
      return;
    }
    let from = 0; // split between chains, each chunk at most `entries` long
    while (from < n) {
      let to = from, cut = from;
      while (to < n && to - from < this.#entries) {
        if (!((words[to * SQE_WORDS] >>> 8) & LINKS)) cut = to + 1;
        to++;
      }
      if (cut === from) cut = to; // unreachable: chains were checked against entries
      lane.push(words.slice(from * SQE_WORDS, cut * SQE_WORDS));
      from = cut;
    }
  }

  /**
   * Removes staged entries that `match` (with the rest of their chain),
   * up to `max` of them, and completes each -ECANCELED; returns how many
   * matched. They never reached C, so nothing else can complete them.
   */
  #unstage(match: (w: Uint32Array, e: number) => boolean, max = Infinity): number {
    const gone: number[] = [];
    const cut = (w: Uint32Array, len: number): number => { // returns the new length
      let e = 0;
      while (e < len && gone.length < max) {
        if (!match(w, e * SQE_WORDS)) {
          e++;
          continue;
        }
        let a = e, b = e; // the chain around it
        while (a > 0 && ((w[(a - 1) * SQE_WORDS] >>> 8) & LINKS)) a--;
        while (b < len - 1 && ((w[b * SQE_WORDS] >>> 8) & LINKS)) b++;
        for (let j = a; j <= b; j++) {
          const at = j * SQE_WORDS + SQE.user_data / 4;
          gone.push(w[at] + w[at + 1] * U32);
        }
        w.copyWithin(a * SQE_WORDS, (b + 1) * SQE_WORDS, len * SQE_WORDS);
        len -= b - a + 1;
        e = a;
      }
      return len;
    };
    const staged = this.#sqU32.subarray(this.#sqHead * SQE_WORDS);
    this.#sqLen = this.#sqHead + cut(staged, this.#sqLen - this.#sqHead);
    for (const lane of [this.#overflow, this.#parked]) {
      lane.edit((chunk) => {
        if (gone.length >= max) return chunk;
        const len = chunk.length / SQE_WORDS;
        const left = cut(chunk, len);
        this.#laneOps -= len - left;
        return left === len ? chunk : chunk.subarray(0, left * SQE_WORDS);
      }, (chunk) => chunk.length > 0);
    }
    if (gone.length > 0) {
      queueMicrotask(() => {
        for (const t of gone) this.#completeTicket(t, ECANCELED);
      });
    }
    return gone.length;
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
    const valid = typeof ns === "bigint"
      ? ns >= 0n && ns <= INT64_MAX
      : Number.isSafeInteger(ns) && ns >= 0;
    if (!valid) {
      return Promise.reject(
        new RangeError(`Cannot set timeout: ns must be an integer in 0..2^63-1, got ${ns}`),
      );
    }
    const count = options.count ?? 0;
    if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
      return Promise.reject(
        new RangeError(`Cannot set timeout: count must be an integer in 0..2^32-1, got ${count}`),
      );
    }
    const e = prepTimeout({ op: 0, fd: -1 }, ns, count, !!options.abs);
    e.ref = options.ref;
    return this.raw(e);
  }

  /**
   * Cancels the op with this ticket if it is still pending: it completes
   * -ECANCELED (or with its result, if it finished first). The ticket of
   * an op that already completed names nothing: nothing else is touched.
   */
  cancel(ticket: number): void {
    if (this.#closed || !Number.isSafeInteger(ticket) || ticket < 0) return;
    const id = ticket % U32;
    if (this.#gens[id] !== (ticket - id) / U32 || this.#handlers[id] === undefined) return;
    this.#flags[id] |= F_CANCELLED;
    const e = prepCancel({ op: 0, fd: -1, ref: false }, ticket);
    this.rawCallback(e, noop);
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
    this.#unwatch?.();
    // staged ops never reached C: complete them here
    this.#dropStaged();
    const ecanceled = -(constants.ECANCELED);
    const cancelAll = new Uint32Array(SQE_WORDS);
    encode(cancelAll, 0, prepCancelEverything({ op: 0, fd: -1 }));
    cancelAll[SQE.user_data / 4] = 0xFFFFFFFF;
    this.#lib.ario_submit(this.#loop, new Uint8Array(cancelAll.buffer), 1);
    // readiness backends cancel at once; io_uring's cancellations land within a few reaps
    for (let spins = 0; this.#lib.ario_inflight(this.#loop) > 0 && spins < 200; spins++) {
      this.#reapAll(spins === 0 ? 0n : 1_000_000n);
    }
    for (let id = 0; id < this.#handlers.length; id++) {
      if (this.#handlers[id]) this.#complete(id, ecanceled);
    }
    if (this.#inWorker) {
      while (this.#waiting) { // the wait reads the loop: let it return first
        this.#lib.ario_wake(this.#loop);
        await this.#waiting;
      }
    }
    while (this.#stopBell() === -constants.EBUSY) {
      await new Promise((r) => setTimeout(r, 0)); // let the ringing thread return
    }
    this.#bell.close();
    this.#lib.ario_deinit(this.#loop);
    this.#lib.ario_mem_free(this.#loop);
    freeBufferGroups(this); // nothing can write into them now
    ioTrim(); // idle I/O memory goes back to C (regions still in use stay theirs)
  }

  #stopBell(): number {
    return this.#lib.ario_bell_stop(this.#loop);
  }

  /** Takes an id for a new op, writes its ticket into its entry (at >= 0); returns the ticket. */
  #register(
    w: Uint32Array | null,
    at: number,
    done: Completion,
    keep: unknown,
    ref: boolean,
    parkable: boolean,
  ): number {
    const id = this.#free.length ? this.#free.pop()! : this.#handlers.length;
    if (id >= this.#gens.length) this.#grow();
    this.#handlers[id] = done;
    this.#keep[id] = keep;
    const gen = this.#gens[id] % GEN_LIMIT + 1; // ticket = id + gen * 2^32 stays exact
    this.#gens[id] = gen;
    this.#flags[id] = (ref ? F_REF : 0) | (parkable ? F_PARKABLE : 0);
    if (parkable) this.#parkables++;
    if (w !== null && at >= 0) {
      w[at + SQE.user_data / 4] = id;
      w[at + SQE.user_data / 4 + 1] = gen;
      if (parkable) {
        this.#closesAt[id] = this.#fdCloses.get(w[at + 1] | 0) ?? 0;
        const need = (id + 1) * SQE_WORDS;
        if (this.#shadow.length < need) {
          const grown = new Uint32Array(Math.max(need, this.#shadow.length * 2));
          grown.set(this.#shadow);
          this.#shadow = grown;
        }
        for (let j = 0; j < SQE_WORDS; j++) this.#shadow[id * SQE_WORDS + j] = w[at + j];
      }
    }
    this.#pending++;
    if (ref && this.#refs++ === 0 && !this.#bellRefd) {
      this.#bell.ref();
      this.#bellRefd = true;
    }
    return id + gen * U32;
  }

  /** Doubles the per-id arrays. */
  #grow(): void {
    const n = this.#gens.length * 2;
    const grown = <T extends Uint32Array | Uint8Array | Float64Array>(a: T, b: T): T => {
      b.set(a);
      return b;
    };
    this.#gens = grown(this.#gens, new Uint32Array(n));
    this.#flags = grown(this.#flags, new Uint8Array(n));
    this.#since = grown(this.#since, new Float64Array(n));
    this.#closesAt = grown(this.#closesAt, new Uint32Array(n));
  }

  /** Completes the op with this ticket if it is still the one pending under its id. */
  #completeTicket(ticket: number, res: number): void {
    const id = ticket % U32;
    if (this.#gens[id] === (ticket - id) / U32 && this.#handlers[id] !== undefined) {
      this.#dispatch(id, res);
    }
  }

  /** Completes op `id`, or hands it a multishot one (CQE_F.MORE); a throwing callback is reported. */
  #dispatch(id: number, res: number, flags = 0): void {
    try {
      if (flags & CQE_F.MORE) this.#handlers[id]!(res, true, flags);
      else this.#complete(id, res, flags);
    } catch (e) {
      reportError(e);
    }
  }

  #complete(id: number, res: number, cqeFlags = 0): void {
    const done = this.#handlers[id]!;
    this.#handlers[id] = undefined;
    this.#keep[id] = undefined;
    this.#free.push(id);
    this.#pending--;
    const f = this.#flags[id];
    this.#flags[id] = 0;
    // the last ref'd op lets the process end, wherever it completes (a reap, a staged cancel)
    if (f & F_REF && --this.#refs === 0 && this.#bellRefd) {
      this.#bell.unref();
      this.#bellRefd = false;
    }
    if (f & ~F_REF) {
      if (f & F_PARKABLE) this.#parkables--;
      if (f & F_PARKING) this.#parkingCount--;
      if (f & F_REQUEUED) this.#requeuedWaiting--; // cancelled while it waited in JS
    }
    done(res, false, cqeFlags);
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
    this.#kicked = false;
    this.#budget = 0;
    if (!this.#closed) this.#flush(true);
  }

  readonly #onWait = () => {
    this.#waiting = undefined;
    this.#onBell();
  };

  /**
   * Submits what is staged and, when `reap`, dispatches what is ready. The
   * doorbell is armed only once JS goes idle: while completions keep
   * coming, the continuations they wake submit again and the next flush
   * reaps, with no thread in the way.
   */
  #flush(reap: boolean): void {
    let activity = false;
    try {
      for (;;) {
        const full = this.#submitStaged();
        if (!reap) break;
        const n = this.#reapAll(0n);
        if (n > 0) activity = true;
        if (!full || n === 0) break; // the table had no room: reaping made some
      }
    } finally { // whatever threw, someone must reap what is left
      if (!activity) this.#idle();
      else if (!this.#idleQueued) {
        this.#idleQueued = true;
        queueMicrotask(this.#idleCheck);
      }
      // Out of microtask budget: this flush did not reap, and what it just
      // submitted may have completed already. An armed doorbell may be
      // blocked in a wait that started before; interrupt it once, so it
      // looks again and rings (a macrotask turn, then a reaping flush).
      if (!reap && this.#armed && !this.#kicked) {
        this.#kicked = true;
        this.#lib.ario_wake(this.#loop);
      }
    }
  }

  readonly #idleCheck = () => {
    this.#idleQueued = false;
    if (!this.#flushQueued && !this.#closed) this.#idle();
  };

  /** Nothing more to do now: have the doorbell ring when C has work. */
  #idle(): void {
    if (this.#pending > 0 && !this.#armed && this.#lead > 0n && this.#awaitTimer()) return;
    if (this.#pending > 0 && !this.#armed) {
      this.#armed = true;
      if (!this.#inWorker) this.#lib.ario_bell_arm(this.#loop);
      else this.#waiting = this.#lib.ario_wait(this.#loop, WORKER_WAIT_NS).then(this.#onWait);
    }
  }

  /**
   * A timer due within the lead (`timerLead`): poll for it here, not
   * through the doorbell. Counts against the microtask budget, so a chain
   * of near timers still lets the event loop turn. True if it reaped.
   */
  #awaitTimer(): boolean {
    const lib = this.#lib, loop = this.#loop;
    if (BigInt(lib.ario_timer_due_in(loop)) > this.#lead) return false;
    if (++this.#budget > MICROTASK_BUDGET) return false;
    // spin till something completes (sleeps overshoot the lead); a moved timer ends it
    let n = 0;
    do n = this.#reapAll(0n); while (n === 0 && BigInt(lib.ario_timer_due_in(loop)) <= this.#lead);
    if (n === 0) return false;
    if (!this.#idleQueued) {
      this.#idleQueued = true;
      queueMicrotask(this.#idleCheck);
    }
    return true;
  }

  /** Hands staged entries to C; true if C's table filled before all fit. */
  #submitStaged(): boolean {
    this.#submitUrgent();
    const full = this.#submitQueued();
    if (full && this.#rotate()) this.#submitUrgent();
    return full;
  }

  /** Cancels and closes that go ahead of everything (C keeps room for them). */
  #submitUrgent(): void {
    for (let words = this.#urgent.peek(); words !== undefined; words = this.#urgent.peek()) {
      if (
        this.#lib.ario_submit(this.#loop, new Uint8Array(words.buffer, words.byteOffset), 1) < 1
      ) {
        return;
      }
      this.#urgent.shift();
    }
  }

  /** The staging area, refilled from the lanes; true if C's table filled. */
  #submitQueued(): boolean {
    for (;;) {
      const n = this.#sqLen - this.#sqHead;
      if (n > 0) {
        const from = this.#sqHead;
        const view = from === 0
          ? this.#sq
          : this.#sq.subarray(from * SQE.size, this.#sqLen * SQE.size);
        const k = this.#lib.ario_submit(this.#loop, view, n);
        this.#consumed(from, k);
        this.#sqHead += k;
        if (k < n) return true; // no O(entries) copy: the rest waits where it is
      }
      this.#sqLen = this.#sqHead = 0;
      if (this.#laneOps === 0) return false;
      for (const lane of [this.#overflow, this.#parked]) {
        for (let chunk = lane.peek(); chunk !== undefined; chunk = lane.peek()) {
          const m = chunk.length / SQE_WORDS;
          if (this.#sqLen + m > this.#entries) break;
          this.#sqU32.set(chunk, this.#sqLen * SQE_WORDS);
          this.#sqLen += m;
          this.#laneOps -= m;
          lane.shift();
        }
        if (lane.length > 0) break; // keep the order: the parked lane waits behind new ops
      }
    }
  }

  /** The first k staged entries reached C: parkable ones join the rotation. */
  #consumed(from: number, k: number): void {
    if (this.#parkables === 0) return; // NOPs, timers, connects: nothing takes turns
    let now = -1;
    for (let e = from; e < from + k; e++) {
      const id = this.#sqU32[e * SQE_WORDS + SQE.user_data / 4];
      const f = this.#flags[id];
      if (!(f & F_PARKABLE)) continue;
      if (f & F_REQUEUED) {
        this.#flags[id] = f & ~F_REQUEUED;
        this.#requeuedWaiting--;
      }
      if (now < 0) now = performance.now();
      this.#since[id] = now;
      this.#rotation.push(id + this.#gens[id] * U32);
    }
    if (this.#rotHead > 1024 && this.#rotHead * 2 > this.#rotation.length) {
      this.#rotation = this.#rotation.slice(this.#rotHead);
      this.#rotHead = 0;
    }
    if (this.#rotation.length - this.#rotHead > 4 * this.#entries) { // drop finished ones
      this.#rotation = this.#rotation.slice(this.#rotHead).filter((t) => {
        const id = t % U32;
        return this.#gens[id] === (t - id) / U32 && this.#handlers[id] !== undefined;
      });
      this.#rotHead = 0;
    }
  }

  /**
   * Fairness when C's table is full and ops wait in JS: the standalone
   * waits (poll, recv, read, recvfrom, accept) that have waited in C
   * longest, at least PARK_AFTER_MS, are cancelled and requeued behind the
   * waiting ops, one for each waiting op. A taken-back op that completed
   * meanwhile keeps its result. Returns whether it queued cancels.
   */
  #rotate(): boolean {
    const now = performance.now();
    const fresh = this.#sqLen - this.#sqHead + this.#laneOps - this.#requeuedWaiting;
    let want = fresh - this.#parkingCount; // new ops get in at once, for the oldest waits
    let minAge = 0;
    if (want <= 0 && this.#requeuedWaiting > 0) { // taken-back ones, one round per quantum
      const wait = this.#lastRound + PARK_AFTER_MS - now;
      if (wait > 0) {
        this.#rotateLater(wait);
        return false;
      }
      this.#lastRound = now;
      want = this.#requeuedWaiting - this.#parkingCount;
      minAge = PARK_AFTER_MS; // each wait keeps its slot for a quantum at least
    }
    want = Math.min(want, PARK_BATCH);
    let queued = false;
    while (want > 0 && this.#rotHead < this.#rotation.length) {
      const t = this.#rotation[this.#rotHead];
      const id = t % U32;
      if (this.#gens[id] !== (t - id) / U32 || this.#handlers[id] === undefined) {
        this.#rotHead++;
        continue;
      }
      const age = now - this.#since[id];
      if (age < minAge) {
        this.#rotateLater(minAge - age);
        break;
      }
      this.#rotHead++;
      this.#flags[id] |= F_PARKING;
      this.#parkingCount++;
      const words = new Uint32Array(SQE_WORDS);
      encode(words, 0, prepCancel({ op: 0, fd: -1 }, t));
      words[SQE.user_data / 4] = 0xFFFFFFFF; // a completion nobody waits for
      this.#urgent.push(words);
      queued = true;
      want--;
    }
    return queued;
  }

  #rotateLater(ms: number): void {
    if (this.#rotTimer !== undefined) return;
    const timer = setTimeout(() => {
      this.#rotTimer = undefined;
      if (!this.#closed && this.#sqLen - this.#sqHead + this.#laneOps > 0) this.#schedule();
    }, Math.ceil(ms)) as unknown as number;
    Deno.unrefTimer(timer);
    this.#rotTimer = timer;
  }

  /** A taken-back op was cancelled: back into the queue, behind the ops that waited. */
  #requeue(id: number): void {
    this.#flags[id] = (this.#flags[id] & ~F_PARKING) | F_REQUEUED;
    this.#parkingCount--;
    const words = this.#shadow.slice(id * SQE_WORDS, (id + 1) * SQE_WORDS);
    this.#requeuedWaiting++;
    this.#enqueue(this.#parked, words);
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
        const res = this.#cqI32[w + CQE.res / 4];
        if ((this.#flags[id] & (F_PARKING | F_CANCELLED)) === F_PARKING && res === ECANCELED) {
          const fd = this.#shadow[id * SQE_WORDS + 1] | 0;
          if ((this.#fdCloses.get(fd) ?? 0) === this.#closesAt[id]) {
            this.#requeue(id);
            continue;
          } // its fd was closed meanwhile: the close cancelled it
        }
        this.#dispatch(id, res, this.#cqU32[w + CQE.flags / 4]);
      }
      total += n;
      if (n < max) return total;
      timeoutNs = 0n;
    }
  }
}

function noop(): void {}

const LINKS = SQE_FLAG.LINK | SQE_FLAG.HARDLINK;
// Set by the first Reactor: the constants come from the library, opened at first use.
let ECANCELED = 0, EINVAL = 0;
const INT64_MAX = 2n ** 63n - 1n;
/** Generations wrap below 2^21 so that a ticket (id + gen * 2^32) is an exact number. */
const GEN_LIMIT = 2 ** 21 - 1;
// Per-op flags (Reactor.#flags)
const F_REF = 1; // keeps the process alive
const F_PARKABLE = 2; // a standalone wait that may be taken back and requeued
const F_PARKING = 4; // an internal cancel to take it back is on its way
const F_CANCELLED = 8; // the user asked to cancel it: never requeue
const F_REQUEUED = 16; // waits in JS because it was taken back
/** How long a wait holds its slot in a full table before it yields it to a waiting op. */
const PARK_AFTER_MS = 20;
/** Waits taken back in one go: bounds the churn when many more wait than fit. */
const PARK_BATCH = 64;
/** ARIO_ENTRIES_MAX on hosts: the table's ordinary ops (C keeps a few more slots for CANCEL/CLOSE). */
const ENTRIES_MAX = 65518;
/** ReactorOptions.timerLead by default (µs): off, no spinning unless asked for. */
const DEFAULT_TIMER_LEAD_US = 0;
/** In-flight capacity of a reactor created without `entries`. */
const DEFAULT_ENTRIES = 16384;

let shared: Reactor | undefined;

/** Closes the shared reactor if one was made (a pool Worker's exit); none is made. */
export function closeSharedReactor(): Promise<void> {
  return shared && !shared.closed ? shared.close() : Promise.resolve();
}

/**
 * The shared reactor, created on first use (entries 16384, the default
 * backend or `ARIO_BACKEND`).
 *
 * @example
 * ```ts
 * import { sharedReactor } from "@ario/ario";
 * console.log(sharedReactor().backend);
 * ```
 */
export function sharedReactor(): Reactor {
  if (!shared || shared.closed) shared = new Reactor();
  return shared;
}
