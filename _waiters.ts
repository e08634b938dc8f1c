/**
 * Internal helpers of channel.ts, sync.ts and reactor.ts: a FIFO deque and
 * abortable waiter queues. Not part of the public API.
 *
 * @module
 */
/**
 * A pending call: how to settle it and what can abort it.
 *
 * @example
 * ```ts ignore
 * const w: Waiter<number> = { resolve: console.log, reject: console.error };
 * ```
 */
export interface Waiter<T> {
  /** Fulfils the call. */
  resolve: (v: T) => void;
  /** Rejects the call. */
  reject: (e: unknown) => void;
  /** The call's signal, if any. */
  signal?: AbortSignal;
  /** The listener on `signal`, removed when settled. */
  onAbort?: () => void;
}

/**
 * A FIFO queue with O(1) push and shift (a head index, compacted lazily).
 *
 * @example
 * ```ts ignore
 * const q = new Deque<number>();
 * q.push(1);
 * q.shift(); // 1
 * ```
 */
export class Deque<T> {
  #items: T[] = [];
  #head = 0;
  /** Items queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }
  /** Appends. */
  push(v: T): void {
    this.#items.push(v);
  }
  /** Removes and returns the first item (undefined when empty). */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const v = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return v;
  }
  /** The first item, left in place (undefined when empty). */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }
  /** Replaces each item by what `f` returns, in order; items `keep` refuses leave. */
  edit(f: (v: T) => T, keep: (v: T) => boolean): void {
    const kept: T[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const v = f(this.#items[i]);
      if (keep(v)) kept.push(v);
    }
    this.#items = kept;
    this.#head = 0;
  }
  /** Removes everything. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
  /** Removes a given item (linear); true if it was there. */
  remove(v: T): boolean {
    const i = this.#items.indexOf(v, this.#head);
    if (i === -1) return false;
    this.#items.splice(i, 1);
    return true;
  }
  /** Removes everything and returns it in order. */
  drain(): T[] {
    const out = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return out;
  }
}

/**
 * Queues a new waiter in `queue` and returns its promise; aborting `signal`
 * removes it from the queue and rejects it with the signal's reason.
 *
 * @example
 * ```ts ignore
 * const q = new Deque<Waiter<string>>();
 * const p = waitIn(q, AbortSignal.timeout(5));
 * settle(q.shift()!, true, "hi"); // p resolves with "hi"
 * ```
 */
export function waitIn<T>(queue: Deque<Waiter<T>>, signal: AbortSignal | undefined): Promise<T> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const w: Waiter<T> = { resolve, reject };
    if (signal) {
      w.signal = signal;
      w.onAbort = () => {
        if (queue.remove(w)) reject(signal.reason);
      };
      signal.addEventListener("abort", w.onAbort, { once: true });
    }
    queue.push(w);
  });
}

/**
 * Settles a waiter taken from its queue (fulfils it with `v` when `ok`,
 * else rejects it with `v`), dropping its abort listener.
 *
 * @example
 * ```ts ignore
 * const w = q.shift();
 * if (w) settle(w, false, new Error("closed"));
 * ```
 */
export function settle<T>(w: Waiter<T>, ok: boolean, v: unknown): void {
  if (w.onAbort) w.signal!.removeEventListener("abort", w.onAbort);
  if (ok) w.resolve(v as T);
  else w.reject(v);
}
