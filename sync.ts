/**
 * Task synchronisation after the async_io runtime: {@linkcode Mutex} (its
 * `AsyncMutex`, a value behind a FIFO lock whose guard is released by
 * `using`) and {@linkcode RingBuffer} (bounded, with backpressure both ways).
 *
 * @example A guarded counter and a bounded pipeline
 * ```ts
 * import { Mutex, RingBuffer } from "@ario/ario/sync";
 * const m = new Mutex({ n: 0 });
 * {
 *   using g = await m.lock();
 *   g.value.n++;
 * }
 * const rb = new RingBuffer<number>(2);
 * await rb.send(1);
 * console.log(await rb.recv()); // 1
 * ```
 *
 * @module
 */
import { Deque, settle, type Waiter, waitIn } from "./_waiters.ts";

/**
 * Options of the waiting calls of {@linkcode Mutex} and {@linkcode RingBuffer}.
 *
 * @example
 * ```ts
 * import { Mutex } from "@ario/ario/sync";
 * const m = new Mutex(0);
 * using _held = await m.lock();
 * await m.lock({ signal: AbortSignal.timeout(5) }).catch((e) => console.log(e.name)); // "TimeoutError"
 * ```
 */
export interface LockOptions {
  /** Stops waiting: the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Access to a {@linkcode Mutex}'s value while it is held. Release it with
 * `using` (or {@linkcode MutexGuard.release}); after release, `value` throws.
 *
 * @example
 * ```ts
 * import { Mutex } from "@ario/ario/sync";
 * const m = new Mutex([1, 2]);
 * using g = await m.lock();
 * g.value.push(3);
 * ```
 */
export class MutexGuard<T> {
  #mutex: Mutex<T> | undefined;
  readonly #release: () => void;

  /** @ignore made by {@linkcode Mutex.lock}. */
  constructor(mutex: Mutex<T>, release: () => void) {
    this.#mutex = mutex;
    this.#release = release;
  }

  /** The guarded value (throws once released). */
  get value(): T {
    if (!this.#mutex) throw new Error("Cannot read guarded value: the guard was released");
    return this.#mutex.unsafeValue;
  }

  /** Replaces the guarded value (throws once released). */
  set value(v: T) {
    if (!this.#mutex) throw new Error("Cannot write guarded value: the guard was released");
    this.#mutex.unsafeValue = v;
  }

  /** Whether this guard still holds the lock. */
  get held(): boolean {
    return this.#mutex !== undefined;
  }

  /** Releases the lock (to the longest waiter, if any). Idempotent. */
  release(): void {
    if (!this.#mutex) return;
    this.#mutex = undefined;
    this.#release();
  }

  /** Same as {@linkcode MutexGuard.release}: `using g = await m.lock()`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * An async mutex owning a value, after async_io's `AsyncMutex`. Fair: the
 * lock goes to waiters in the order they called {@linkcode Mutex.lock}; a
 * release hands it directly to the next waiter, so no later caller (not even
 * {@linkcode Mutex.tryLock}) can barge in.
 *
 * @example Serialise a critical section across tasks
 * ```ts
 * import { Mutex } from "@ario/ario/sync";
 * const m = new Mutex(0);
 * await Promise.all([1, 2, 3].map(async (k) => {
 *   using g = await m.lock();
 *   g.value += k;
 * }));
 * console.log(m.unsafeValue); // 6
 * ```
 */
export class Mutex<T> {
  /** The value without locking: for inspection when no task can hold the lock. */
  unsafeValue: T;
  #locked = false;
  readonly #waiters = new Deque<Waiter<MutexGuard<T>>>();
  readonly #releaseFn = () => this.#handOver();

  /** A mutex around `value`. */
  constructor(value: T) {
    this.unsafeValue = value;
  }

  /** Whether a guard holds the lock. */
  get locked(): boolean {
    return this.#locked;
  }

  /** Tasks waiting in {@linkcode Mutex.lock}. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Waits for the lock (FIFO); rejects with the signal's reason when aborted. */
  lock(options: LockOptions = {}): Promise<MutexGuard<T>> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve(new MutexGuard(this, this.#releaseFn));
    }
    return waitIn(this.#waiters, options.signal);
  }

  /** The lock now, or undefined if it is held (or others wait for it). */
  tryLock(): MutexGuard<T> | undefined {
    if (this.#locked) return undefined;
    this.#locked = true;
    return new MutexGuard(this, this.#releaseFn);
  }

  /** Runs `fn` with the value under the lock and releases it after. */
  async with<R>(fn: (value: T) => R | Promise<R>, options: LockOptions = {}): Promise<R> {
    using g = await this.lock(options);
    return await fn(g.value);
  }

  #handOver(): void {
    const next = this.#waiters.shift();
    if (next) settle(next, true, new MutexGuard(this, this.#releaseFn));
    else this.#locked = false;
  }
}

/**
 * The ring buffer was closed: sends fail, and receives fail once it is
 * empty.
 *
 * @example
 * ```ts
 * import { RingBuffer, RingBufferClosedError } from "@ario/ario/sync";
 * const rb = new RingBuffer<number>(1);
 * rb.close();
 * await rb.recv().catch((e) => console.log(e instanceof RingBufferClosedError)); // true
 * ```
 */
export class RingBufferClosedError extends Error {
  /** The closed error for `what` ("send", "recv"). */
  constructor(what: string) {
    super(`Cannot ${what}: the ring buffer is closed`);
    this.name = "RingBufferClosedError";
  }
}

/**
 * A bounded FIFO queue, after async_io's `RingBuffer`: {@linkcode RingBuffer.send}
 * waits while it holds `bound` values, {@linkcode RingBuffer.recv} waits while
 * it is empty (backpressure both ways). Waiting senders and receivers are
 * served in arrival order. Storage is one fixed array of `bound` slots.
 *
 * @example A fast producer held back by a slow consumer
 * ```ts
 * import { RingBuffer } from "@ario/ario/sync";
 * const rb = new RingBuffer<number>(2);
 * const producer = (async () => { for (let i = 0; i < 5; i++) await rb.send(i); })();
 * for (let i = 0; i < 5; i++) console.log(await rb.recv());
 * await producer;
 * ```
 */
export class RingBuffer<T> {
  readonly #slots: (T | undefined)[];
  #head = 0;
  #len = 0;
  #closed = false;
  readonly #senders = new Deque<Waiter<void> & { value: T }>();
  readonly #receivers = new Deque<Waiter<T>>();

  /** A ring of `bound` slots (an integer ≥ 1). */
  constructor(bound: number) {
    if (!Number.isInteger(bound) || bound < 1) {
      throw new RangeError(
        `Cannot create ring buffer: bound must be an integer >= 1, got ${bound}`,
      );
    }
    this.#slots = new Array(bound);
  }

  /** Slots in all. */
  get capacity(): number {
    return this.#slots.length;
  }

  /** Values held now. */
  get size(): number {
    return this.#len;
  }

  /** Whether {@linkcode RingBuffer.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Puts a value in, waiting while the buffer is full. Rejects with
   * {@linkcode RingBufferClosedError} when closed, or the signal's reason.
   */
  send(value: T, options: LockOptions = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new RingBufferClosedError("send"));
    if (this.trySend(value)) return Promise.resolve();
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const w: Waiter<void> & { value: T } = { resolve, reject, value };
      if (signal) {
        w.signal = signal;
        w.onAbort = () => {
          if (this.#senders.remove(w)) reject(signal.reason);
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.#senders.push(w);
    });
  }

  /** Puts a value in if there is room now (and nobody waits before us); false if full. */
  trySend(value: T): boolean {
    if (this.#closed) throw new RingBufferClosedError("send");
    const r = this.#receivers.shift();
    if (r) {
      settle(r, true, value); // empty with a waiting receiver: hand over
      return true;
    }
    if (this.#len === this.#slots.length || this.#senders.length > 0) return false;
    this.#slots[(this.#head + this.#len) % this.#slots.length] = value;
    this.#len++;
    return true;
  }

  /**
   * Takes the oldest value, waiting while empty. Rejects with
   * {@linkcode RingBufferClosedError} when closed and empty, or the signal's reason.
   */
  recv(options: LockOptions = {}): Promise<T> {
    if (this.#len > 0) return Promise.resolve(this.#take());
    if (this.#closed) return Promise.reject(new RingBufferClosedError("recv"));
    return waitIn(this.#receivers, options.signal);
  }

  /** Takes the oldest value now, or returns undefined when empty. */
  tryRecv(): T | undefined {
    return this.#len > 0 ? this.#take() : undefined;
  }

  /**
   * Closes the buffer: waiting and later sends reject; values held can
   * still be received, then receives reject.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#senders.drain()) settle(w, false, new RingBufferClosedError("send"));
    for (const w of this.#receivers.drain()) settle(w, false, new RingBufferClosedError("recv"));
  }

  /** Values until closed and drained. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      try {
        yield await this.recv();
      } catch (e) {
        if (e instanceof RingBufferClosedError) return;
        throw e;
      }
    }
  }

  #take(): T {
    const v = this.#slots[this.#head] as T;
    this.#slots[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#slots.length;
    this.#len--;
    // a slot is free: the longest-waiting sender fills it
    const s = this.#senders.shift();
    if (s) {
      this.#slots[(this.#head + this.#len) % this.#slots.length] = s.value;
      this.#len++;
      settle(s, true, undefined);
    }
    return v;
  }
}
