/**
 * Timers after async-io's `Timer`: one-shot ({@linkcode Timer.after},
 * {@linkcode Timer.at}), periodic without drift ({@linkcode Timer.interval},
 * {@linkcode Timer.intervalAt}) and {@linkcode Timer.never}, awaitable and
 * async-iterable.
 *
 * Timers run on a {@linkcode TimerClock}. The default, {@linkcode ReactorClock},
 * keeps every deadline in a binary heap in JS and only the earliest one in the
 * C reactor, as one TIMEOUT op with an absolute CLOCK_MONOTONIC deadline in
 * nanoseconds (re-armed when the earliest deadline changes). A timer never
 * fires before its deadline on that clock. {@linkcode VirtualClock} is a
 * manual clock for tests: `advance(ms)` fires due timers in deadline order.
 *
 * Time values: every `time` argument and result is in milliseconds on the
 * timer's clock (a float; {@linkcode TimerClock.now}). On the reactor clock that
 * is the C loop's CLOCK_MONOTONIC (`sharedReactor().now()` / 1e6); it is NOT the
 * origin of `performance.now()`. Pass a `bigint` to {@linkcode Timer.at} /
 * {@linkcode Timer.intervalAt} for a deadline in exact nanoseconds on that clock.
 *
 * @example Sleep, tick, time out
 * ```ts
 * import { Timer } from "@ario/ario/timer";
 * await Timer.after(5); // resolves with the deadline, ms on the reactor clock
 * let n = 0;
 * for await (const _at of Timer.interval(2)) if (++n === 3) break;
 * ```
 *
 * @module
 */
import { prepTimeout } from "./sqe.ts";
import { type Reactor, sharedReactor } from "./reactor.ts";
import { load } from "./ffi/load.ts";
import { constants } from "./errors.ts";

const NS_PER_MS = 1e6;

/**
 * One registration in a {@linkcode TimerClock}: a deadline and what to run
 * when it is due. {@linkcode Timer} makes these; a custom clock only reads
 * `deadline` and `ref` and calls `fire()`, or `fail(error)` when it can
 * never fire (its clock's reactor closed).
 *
 * @example A raw entry on a virtual clock
 * ```ts
 * import { TimerEntry, VirtualClock } from "@ario/ario/timer";
 * const clock = new VirtualClock();
 * clock.insert(new TimerEntry(5e6, () => console.log("fired at", clock.now())));
 * clock.advance(5); // fired at 5
 * ```
 */
export class TimerEntry {
  /** Deadline in integer nanoseconds on the clock. */
  deadline: number;
  /** Whether this entry keeps the process alive (real clocks only). */
  ref = true;
  /** Called once when the entry is due (it is already removed). */
  readonly fire: () => void;
  /** Called instead of `fire` when the entry can never fire (it is already removed). */
  readonly fail: (error: Error) => void;
  /** @internal position in the clock's heap, -1 when not registered. */
  pos = -1;
  /** @internal insertion order, breaks ties between equal deadlines. */
  seq = 0;

  /** An entry due at `deadline` ns that calls `fire` (or `fail`, default: nothing). */
  constructor(deadline: number, fire: () => void, fail: (error: Error) => void = () => {}) {
    this.deadline = deadline;
    this.fire = fire;
    this.fail = fail;
  }
}

/**
 * What a {@linkcode Timer} runs on: a monotonic clock plus a queue of
 * {@linkcode TimerEntry}s it fires in deadline order. Built-ins:
 * {@linkcode ReactorClock} (the default, real time in the C reactor) and
 * {@linkcode VirtualClock} (manual time for tests).
 *
 * @example Choose a clock per timer
 * ```ts
 * import { Timer, VirtualClock } from "@ario/ario/timer";
 * const clock = new VirtualClock();
 * const t = Timer.after(10, { clock });
 * clock.advance(10);
 * console.log(await t); // 10
 * ```
 */
export interface TimerClock {
  /** Current time in milliseconds (float). */
  now(): number;
  /** Current time in integer nanoseconds. */
  nowNs(): number;
  /**
   * A recent reading of {@linkcode TimerClock.nowNs} without reading the
   * clock again: never ahead of the current time (a cheap "is it due yet").
   */
  recentNs(): number;
  /** Registers an entry (not registered yet). */
  insert(entry: TimerEntry): void;
  /** Unregisters an entry if it is registered. */
  remove(entry: TimerEntry): void;
  /** Changes whether a registered entry keeps the process alive. */
  setRef(entry: TimerEntry, ref: boolean): void;
}

/** A min-heap of entries by (deadline, seq): the shared core of the clocks. */
class EntryHeap {
  readonly items: TimerEntry[] = [];
  #seq = 0;
  refs = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): TimerEntry | undefined {
    return this.items[0];
  }

  push(e: TimerEntry): void {
    if (e.pos !== -1) throw new Error("Cannot insert timer entry: it is already registered");
    e.seq = this.#seq++;
    if (e.ref) this.refs++;
    e.pos = this.items.length;
    this.items.push(e);
    this.#up(e.pos);
  }

  pop(): TimerEntry | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(e: TimerEntry): boolean {
    const pos = e.pos;
    const items = this.items;
    if (pos < 0 || items[pos] !== e) return false;
    e.pos = -1;
    if (e.ref) this.refs--;
    const last = items.pop()!;
    if (last !== e) {
      items[pos] = last;
      last.pos = pos;
      this.#up(pos);
      if (last.pos === pos) this.#down(pos);
    }
    return true;
  }

  static less(a: TimerEntry, b: TimerEntry): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  #up(pos: number): void {
    const items = this.items;
    const e = items[pos];
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const p = items[parent];
      if (!EntryHeap.less(e, p)) break;
      items[pos] = p;
      p.pos = pos;
      pos = parent;
    }
    items[pos] = e;
    e.pos = pos;
  }

  #down(pos: number): void {
    const items = this.items;
    const n = items.length;
    const e = items[pos];
    for (;;) {
      let c = 2 * pos + 1;
      if (c >= n) break;
      if (c + 1 < n && EntryHeap.less(items[c + 1], items[c])) c++;
      const child = items[c];
      if (!EntryHeap.less(child, e)) break;
      items[pos] = child;
      child.pos = pos;
      pos = c;
    }
    items[pos] = e;
    e.pos = pos;
  }
}

/**
 * Real time in the C reactor. All entries wait in a JS binary heap; the
 * earliest deadline is armed in C as one absolute TIMEOUT op (ns, the loop's
 * CLOCK_MONOTONIC), re-armed (old op cancelled) when an earlier deadline
 * arrives. When it fires, every entry due by the reactor's clock fires in
 * deadline order. The armed op is ref'd only while a ref'd entry waits, so
 * unref'd timers do not keep the process alive.
 *
 * @example A clock on its own reactor
 * ```ts
 * import { Reactor, ReactorClock, Timer } from "@ario/ario";
 * const r = new Reactor({ backend: "poll" });
 * const clock = new ReactorClock(r);
 * await Timer.after(1, { clock });
 * await r.close();
 * ```
 */
export class ReactorClock implements TimerClock {
  readonly #given?: Reactor;
  readonly #heap = new EntryHeap();
  // the armed op: its id, deadline, whether ref'd; a token to spot stale completions
  #armedId = -1;
  #armedAt = Infinity;
  #armedRef = false;
  #armedOn?: Reactor;
  #token = 0;
  #dirty = false;
  #last = 0;
  #lib?: ReturnType<typeof load>;
  readonly #rearmTask = () => {
    this.#dirty = false;
    this.#rearm();
  };

  /** A clock on `reactor` (default: the shared {@linkcode sharedReactor}). */
  constructor(reactor?: Reactor) {
    this.#given = reactor;
  }

  get #reactor(): Reactor {
    return this.#given ?? sharedReactor();
  }

  /** Current time on the reactor's CLOCK_MONOTONIC, in ms. */
  now(): number {
    return this.nowNs() / NS_PER_MS;
  }

  /** Current time on the reactor's CLOCK_MONOTONIC, in ns. */
  nowNs(): number {
    // the same clock as `reactor.now()`, without going through the reactor
    return this.#last = Number((this.#lib ??= load()).ario_now());
  }

  /** The last reading of {@linkcode ReactorClock.nowNs}. */
  recentNs(): number {
    return this.#last;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#heap.size;
  }

  /** Deadline (ms) of the TIMEOUT op armed in C, or undefined when none is. */
  get armed(): number | undefined {
    return this.#armedId === -1 ? undefined : this.#armedAt / NS_PER_MS;
  }

  /** Registers an entry; arms C if it is the new earliest. Fails it if the reactor is closed. */
  insert(entry: TimerEntry): void {
    if (this.#given?.closed) {
      queueMicrotask(() => entry.fail(closedClock()));
      return;
    }
    this.#heap.push(entry);
    if (entry.deadline < this.#armedAt || (entry.ref && !this.#armedRef)) this.#markDirty();
  }

  /** Unregisters an entry. */
  remove(entry: TimerEntry): void {
    if (!this.#heap.remove(entry)) return;
    // A stale earlier arm only costs a spurious wake-up, but a ref'd arm
    // with no ref'd entry left would keep the process alive.
    if (this.#heap.size === 0 || (this.#armedRef && this.#heap.refs === 0)) this.#markDirty();
  }

  /** Changes whether an entry keeps the process alive. */
  setRef(entry: TimerEntry, ref: boolean): void {
    if (entry.ref === ref) return;
    if (entry.pos !== -1) {
      this.#heap.refs += ref ? 1 : -1;
      this.#markDirty();
    }
    entry.ref = ref;
  }

  #markDirty(): void {
    if (!this.#dirty) {
      this.#dirty = true;
      queueMicrotask(this.#rearmTask);
    }
  }

  /** Makes the armed op match the heap: earliest deadline, ref'd iff a ref'd entry waits. */
  #rearm(): void {
    const top = this.#heap.peek();
    const wantRef = this.#heap.refs > 0;
    if (top === undefined) {
      this.#disarm();
      return;
    }
    if (this.#armedId !== -1 && this.#armedAt <= top.deadline && this.#armedRef === wantRef) return;
    // Arm the new deadline before cancelling the old one, so the deadline C
    // publishes to its waiting thread only ever moves earlier here.
    const old = this.#armedId, oldOn = this.#armedOn;
    const r = this.#reactor;
    const token = ++this.#token;
    const deadline = top.deadline;
    const e = prepTimeout({ op: 0, fd: -1, ref: wantRef }, BigInt(Math.ceil(deadline)), 0, true);
    const id = r.rawCallback(e, (res) => this.#onTimeout(token, res));
    if (old !== -1) oldOn!.cancel(old);
    this.#armedId = id;
    this.#armedAt = deadline;
    this.#armedRef = wantRef;
    this.#armedOn = r;
  }

  #disarm(): void {
    if (this.#armedId === -1) return;
    this.#armedOn!.cancel(this.#armedId);
    this.#armedId = -1;
    this.#armedAt = Infinity;
    this.#armedRef = false;
    this.#armedOn = undefined;
    this.#token++;
  }

  #onTimeout(token: number, res: number): void {
    if (token !== this.#token) return; // cancelled or replaced
    const on = this.#armedOn!;
    this.#armedId = -1;
    this.#armedAt = Infinity;
    this.#armedRef = false;
    this.#armedOn = undefined;
    if (res !== -constants.ETIME && on.closed && this.#given !== undefined) {
      // our own reactor was closed: nothing can fire any more, so every waiting timer fails
      for (let top = this.#heap.peek(); top !== undefined; top = this.#heap.peek()) {
        this.#heap.remove(top);
        top.fail(closedClock());
      }
      return;
    }
    this.#fireDue();
    this.#rearm();
  }

  #fireDue(): void {
    const heap = this.#heap;
    let now = this.nowNs();
    for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
      if (top.deadline > now) {
        now = this.nowNs(); // firing took time: look again before re-arming
        if (top.deadline > now) break;
      }
      heap.remove(top);
      top.fire();
    }
  }
}

function closedClock(): Error {
  return new Deno.errors.BadResource("Cannot wait: the reactor of this timer's clock is closed");
}

/**
 * A manual clock for tests. Time starts at `start` ms and moves only on
 * {@linkcode VirtualClock.advance}, which fires every due entry in deadline
 * order (ties in insertion order), resolving timers' promises synchronously
 * in that order. Timers already due fire on the next advance (or at once,
 * when awaited).
 *
 * @example Three timers, fired in deadline order
 * ```ts
 * import { Timer, VirtualClock } from "@ario/ario/timer";
 * const clock = new VirtualClock();
 * const order: number[] = [];
 * for (const ms of [30, 10, 20]) Timer.after(ms, { clock }).then(() => order.push(ms));
 * clock.advance(30);
 * await Promise.resolve();
 * console.log(order); // [10, 20, 30]
 * ```
 */
export class VirtualClock implements TimerClock {
  readonly #heap = new EntryHeap();
  #now: number;

  /** A clock reading `start` ms (default 0). */
  constructor(start = 0) {
    this.#now = Math.round(start * NS_PER_MS);
  }

  /** Current virtual time, ms. */
  now(): number {
    return this.#now / NS_PER_MS;
  }

  /** Current virtual time, ns. */
  nowNs(): number {
    return this.#now;
  }

  /** Same as {@linkcode VirtualClock.nowNs}. */
  recentNs(): number {
    return this.#now;
  }

  /** Entries waiting. */
  get size(): number {
    return this.#heap.size;
  }

  /** Deadline of the earliest waiting entry in ms, or undefined. */
  get next(): number | undefined {
    const top = this.#heap.peek();
    return top === undefined ? undefined : top.deadline / NS_PER_MS;
  }

  /** Registers an entry. */
  insert(entry: TimerEntry): void {
    this.#heap.push(entry);
  }

  /** Unregisters an entry. */
  remove(entry: TimerEntry): void {
    this.#heap.remove(entry);
  }

  /** Virtual timers never keep a process alive; kept for the interface. */
  setRef(entry: TimerEntry, ref: boolean): void {
    if (entry.pos !== -1 && entry.ref !== ref) this.#heap.refs += ref ? 1 : -1;
    entry.ref = ref;
  }

  /**
   * Moves time forward `ms` (≥ 0) and fires every entry due by then, in
   * deadline order; `now()` reads each entry's deadline while it fires.
   * Returns how many fired.
   */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`Cannot advance clock: ms must be >= 0, got ${ms}`);
    return this.#advanceTo(this.#now + Math.round(ms * NS_PER_MS));
  }

  /** Moves time to `time` ms (not backwards) and fires what is due. */
  advanceTo(time: number): number {
    return this.#advanceTo(Math.max(this.#now, Math.round(time * NS_PER_MS)));
  }

  /**
   * Moves time forward `ms` one deadline at a time, letting promise
   * continuations run (a macrotask turn) after each, so timers they set or
   * await (intervals) fire too. Returns how many fired.
   */
  async run(ms: number): Promise<number> {
    if (!(ms >= 0)) throw new RangeError(`Cannot run clock: ms must be >= 0, got ${ms}`);
    const end = this.#now + Math.round(ms * NS_PER_MS);
    let fired = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 0));
      const top = this.#heap.peek();
      if (top === undefined || top.deadline > end) break;
      fired += this.#advanceTo(Math.max(this.#now, top.deadline));
    }
    this.#now = end;
    return fired;
  }

  #advanceTo(end: number): number {
    const heap = this.#heap;
    let fired = 0;
    for (let top = heap.peek(); top !== undefined && top.deadline <= end; top = heap.peek()) {
      heap.remove(top);
      if (top.deadline > this.#now) this.#now = top.deadline;
      fired++;
      top.fire();
    }
    this.#now = end;
    return fired;
  }
}

let defaultClock: ReactorClock | undefined;

/**
 * The clock timers use when none is given: a {@linkcode ReactorClock} on the
 * shared reactor.
 *
 * @example
 * ```ts
 * import { sharedReactorClock } from "@ario/ario/timer";
 * console.log(sharedReactorClock().now()); // ms on CLOCK_MONOTONIC
 * ```
 */
export function sharedReactorClock(): ReactorClock {
  return defaultClock ??= new ReactorClock();
}

/**
 * Options of the {@linkcode Timer} constructors.
 *
 * @example An unref'd timer on a virtual clock
 * ```ts
 * import { Timer, type TimerOptions, VirtualClock } from "@ario/ario/timer";
 * const options: TimerOptions = { clock: new VirtualClock(), ref: false };
 * console.log(Timer.after(5, options).refed); // false
 * ```
 */
export interface TimerOptions {
  /** Clock to run on (default {@linkcode sharedReactorClock}()). */
  clock?: TimerClock;
  /** Whether a waiting timer keeps the process alive (default true). */
  ref?: boolean;
}

/**
 * Options of {@linkcode Timer.wait} and {@linkcode Timer.ticks}.
 *
 * @example Give up waiting after 10 ms
 * ```ts
 * import { Timer } from "@ario/ario/timer";
 * await Timer.after(60_000).wait({ signal: AbortSignal.timeout(10) }).catch((e) => console.log(e.name));
 * ```
 */
export interface WaitOptions {
  /** Stops waiting: the wait rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface Waiter {
  resolve: (at: number) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** Iterations end on clear(); plain waits stay pending (as in async-io). */
  onClear?: () => void;
}

/**
 * Firings one timer may deliver in a row straight from `wait()` (a resolved
 * promise: a microtask). Past that, its next due firing goes through its
 * clock, which delivers it from the reactor's flush, and that yields to the
 * event loop within its own budget: a tiny period (1e-6 ms) or a backlog of
 * missed ticks cannot starve other macrotasks, while many distinct due
 * timers still fire at once. A firing through the clock starts the count again.
 */
const IMMEDIATE_STREAK = 64;

/** A time in ms (number) or exact ns (bigint) on a clock → integer ns. */
function toNs(time: number | bigint, what: string): number {
  if (typeof time === "bigint") return Number(time);
  if (!Number.isFinite(time)) {
    throw new RangeError(`Cannot ${what}: time must be finite, got ${time}`);
  }
  return Math.ceil(time * NS_PER_MS);
}

function durationNs(ms: number, what: string): number {
  if (!(ms >= 0) || !Number.isFinite(ms)) {
    throw new RangeError(`Cannot ${what}: duration must be a finite number of ms >= 0, got ${ms}`);
  }
  return Math.ceil(ms * NS_PER_MS);
}

function periodNs(ms: number, what: string): number {
  const ns = durationNs(ms, what);
  if (ns <= 0) throw new RangeError(`Cannot ${what}: period must be > 0 ms, got ${ms}`);
  return ns;
}

/**
 * A timer after async-io's `Timer`: it fires once at a deadline, or
 * periodically; `await timer` waits for the next firing and resolves with
 * that firing's deadline (ms on the clock, as async-io returns the `Instant`
 * it was due at). A timer is lazy: it waits in the clock only while someone
 * awaits it, and a firing nobody awaited is kept until the next await (so
 * missed interval ticks fire back to back; the next deadline is always the
 * previous deadline + period: no drift).
 *
 * @example Timeout a promise
 * ```ts
 * import { Timer } from "@ario/ario/timer";
 * const work = new Promise((r) => setTimeout(r, 1, "done"));
 * const winner = await Promise.race([work, Timer.after(1000).then(() => "timeout")]);
 * console.log(winner); // "done"
 * ```
 */
export class Timer implements PromiseLike<number>, AsyncIterable<number> {
  readonly #clock: TimerClock;
  #when: number | undefined; // ns; undefined: will not fire
  #period = 0; // ns; 0: one-shot
  #entry: TimerEntry | undefined;
  #waiters: Waiter[] = [];
  #streak = 0; // firings delivered in a row straight from wait() (IMMEDIATE_STREAK)
  #ref: boolean;

  /** A timer that never fires; prefer the static constructors. */
  constructor(options: TimerOptions = {}) {
    this.#clock = options.clock ?? sharedReactorClock();
    this.#ref = options.ref ?? true;
  }

  /**
   * Fires once, `ms` milliseconds from now.
   *
   * @example
   * ```ts
   * import { Timer } from "@ario/ario/timer";
   * await Timer.after(1);
   * ```
   */
  static after(ms: number, options?: TimerOptions): Timer {
    return new Timer(options).setAfter(ms);
  }

  /**
   * Fires once at `time`: ms on the clock (see {@linkcode Timer.now}), or a
   * bigint in exact ns.
   *
   * @example
   * ```ts
   * import { Timer } from "@ario/ario/timer";
   * await Timer.at(Timer.now() + 2);
   * ```
   */
  static at(time: number | bigint, options?: TimerOptions): Timer {
    return new Timer(options).setAt(time);
  }

  /**
   * Fires every `ms` milliseconds, first `ms` from now.
   *
   * @example
   * ```ts
   * import { Timer } from "@ario/ario/timer";
   * let n = 0;
   * for await (const _ of Timer.interval(1)) if (++n === 2) break;
   * ```
   */
  static interval(ms: number, options?: TimerOptions): Timer {
    return new Timer(options).setInterval(ms);
  }

  /**
   * Fires at `start` (ms on the clock, or bigint ns), then every `ms`.
   *
   * @example
   * ```ts
   * import { Timer } from "@ario/ario/timer";
   * const t = Timer.intervalAt(Timer.now(), 5);
   * await t; // at once: the first deadline is now
   * ```
   */
  static intervalAt(start: number | bigint, ms: number, options?: TimerOptions): Timer {
    return new Timer(options).setIntervalAt(start, ms);
  }

  /**
   * A timer that never fires (until set).
   *
   * @example
   * ```ts
   * import { Timer } from "@ario/ario/timer";
   * console.log(Timer.never().willFire()); // false
   * ```
   */
  static never(options?: TimerOptions): Timer {
    return new Timer(options);
  }

  /**
   * Current time in ms on `clock` (default the reactor's CLOCK_MONOTONIC).
   *
   * @example
   * ```ts
   * import { Timer } from "@ario/ario/timer";
   * const t = Timer.at(Timer.now() + 1);
   * console.log(await t >= Timer.now() - 1);
   * ```
   */
  static now(clock: TimerClock = sharedReactorClock()): number {
    return clock.now();
  }

  /** The clock this timer runs on. */
  get clock(): TimerClock {
    return this.#clock;
  }

  /** The next deadline in ms on the clock, or undefined if it will not fire. */
  get deadline(): number | undefined {
    return this.#when === undefined ? undefined : this.#when / NS_PER_MS;
  }

  /** The period in ms (0 for a one-shot timer). */
  get period(): number {
    return this.#period / NS_PER_MS;
  }

  /** Whether the timer will fire (again): false for `never()`, after `clear()` or a fired one-shot. */
  willFire(): boolean {
    return this.#when !== undefined;
  }

  /** Re-arms as a one-shot `ms` from now; pending waits follow. Returns this. */
  setAfter(ms: number): this {
    return this.#set(this.#clock.nowNs() + durationNs(ms, "set timer"), 0);
  }

  /** Re-arms as a one-shot at `time` (ms on the clock, or bigint ns). Returns this. */
  setAt(time: number | bigint): this {
    return this.#set(toNs(time, "set timer"), 0);
  }

  /** Re-arms as an interval of `ms`, first firing `ms` from now. Returns this. */
  setInterval(ms: number): this {
    const p = periodNs(ms, "set interval");
    return this.#set(this.#clock.nowNs() + p, p);
  }

  /** Re-arms as an interval of `ms` starting at `start`. Returns this. */
  setIntervalAt(start: number | bigint, ms: number): this {
    return this.#set(toNs(start, "set interval"), periodNs(ms, "set interval"));
  }

  /** Stops the timer: it will not fire until set again (pending waits stay pending). Returns this. */
  clear(): this {
    this.#unregister();
    this.#when = undefined;
    this.#period = 0;
    if (this.#waiters.some((w) => w.onClear)) {
      const ending = this.#waiters.filter((w) => w.onClear);
      this.#waiters = this.#waiters.filter((w) => !w.onClear);
      for (const w of ending) {
        if (w.onAbort) w.signal!.removeEventListener("abort", w.onAbort);
        w.onClear!();
      }
    }
    return this;
  }

  /** Lets the process exit while this timer waits. Returns this. */
  unref(): this {
    this.#setRef(false);
    return this;
  }

  /** Makes this timer keep the process alive while it waits (the default). Returns this. */
  ref(): this {
    this.#setRef(true);
    return this;
  }

  /** Whether a waiting timer keeps the process alive. */
  get refed(): boolean {
    return this.#ref;
  }

  /**
   * Waits for the next firing; resolves with its deadline (ms on the clock).
   * Rejects with `signal.reason` when aborted; the firing is then kept for
   * the next wait.
   */
  wait(options: WaitOptions = {}): Promise<number> {
    return this.#wait(options.signal, false) as Promise<number>;
  }

  #wait(signal: AbortSignal | undefined, endOnClear: boolean): Promise<number | undefined> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const when = this.#when;
    // Due: fire now. One-shots only look at a recent reading (a due one the
    // reading missed goes through the clock, which fires it at once);
    // intervals read the clock, so missed ticks come back to back.
    const due = when !== undefined && this.#waiters.length === 0 &&
      (when <= this.#clock.recentNs() || (this.#period > 0 && when <= this.#clock.nowNs()));
    if (due && this.#streak < IMMEDIATE_STREAK) {
      this.#streak++;
      return Promise.resolve(this.#advance() / NS_PER_MS);
    }
    // Not due, or due but out of immediate firings: wait through the clock. A due entry fires
    // from the clock's next pass (the reactor's flush, which yields to the event loop within
    // its own budget), all due entries at once: no per-waiter polling, however many wait.
    return new Promise<number | undefined>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (endOnClear) w.onClear = () => resolve(undefined);
      if (signal) {
        w.signal = signal;
        w.onAbort = () => this.#abort(w);
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.#waiters.push(w);
      if (this.#waiters.length === 1) this.#register();
    });
  }

  /** Makes the timer awaitable: `await timer` is `await timer.wait()`. */
  then<A = number, B = never>(
    onFulfilled?: ((at: number) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.wait().then(onFulfilled, onRejected);
  }

  /**
   * The firings as an async iterable (deadlines in ms); ends when the timer
   * will not fire again: after a one-shot's firing, or on `clear()` (even
   * while the iteration waits).
   */
  async *ticks(options: WaitOptions = {}): AsyncGenerator<number, void, undefined> {
    while (this.willFire()) {
      const at = await this.#wait(options.signal, true);
      if (at === undefined) return; // cleared while waiting
      yield at;
    }
  }

  /** Same as {@linkcode Timer.ticks} without options. */
  [Symbol.asyncIterator](): AsyncGenerator<number, void, undefined> {
    return this.ticks();
  }

  #set(when: number, period: number): this {
    this.#unregister();
    this.#when = when;
    this.#period = period;
    if (this.#waiters.length > 0) this.#register();
    return this;
  }

  /** Consumes the current firing: returns its deadline and moves to the next. */
  #advance(): number {
    const at = this.#when!;
    this.#when = this.#period > 0 ? at + this.#period : undefined;
    return at;
  }

  #register(): void {
    if (this.#when === undefined) return;
    let e = this.#entry;
    if (e === undefined) {
      e = this.#entry = new TimerEntry(this.#when, () => this.#fire(), (err) => this.#fail(err));
      e.ref = this.#ref;
    } else {
      if (e.pos !== -1) return;
      e.deadline = this.#when;
    }
    this.#clock.insert(e);
  }

  #unregister(): void {
    const e = this.#entry;
    if (e !== undefined && e.pos !== -1) this.#clock.remove(e);
  }

  #setRef(ref: boolean): void {
    this.#ref = ref;
    if (this.#entry) this.#clock.setRef(this.#entry, ref);
  }

  #fire(): void {
    this.#streak = 0;
    const waiters = this.#waiters;
    if (waiters.length === 0 || this.#when === undefined) return;
    const at = this.#advance() / NS_PER_MS;
    this.#waiters = [];
    for (const w of waiters) {
      if (w.onAbort) w.signal!.removeEventListener("abort", w.onAbort);
      w.resolve(at);
    }
  }

  /** The clock can never fire this timer: every wait rejects. */
  #fail(err: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (w.onAbort) w.signal!.removeEventListener("abort", w.onAbort);
      w.reject(err);
    }
  }

  #abort(w: Waiter): void {
    const i = this.#waiters.indexOf(w);
    if (i === -1) return;
    this.#waiters.splice(i, 1);
    if (this.#waiters.length === 0) this.#unregister();
    w.reject(w.signal!.reason);
  }
}
