/**
 * Unbounded multi-producer channels after the async_io runtime's
 * `async_channel()`: {@linkcode channel} returns a {@linkcode Sender} and a
 * {@linkcode Receiver}. Sending never waits; receiving waits for a value.
 * Errors follow async_io: {@linkcode SendError} (carries the value back),
 * {@linkcode RecvError}, {@linkcode TryRecvError} (empty or closed).
 *
 * JS has no destructors, so a side closes explicitly (`close()`, or `using`):
 * the channel is closed for receivers once every sender (including clones)
 * closed, and for senders once the receiver closed.
 *
 * @example Producer and consumer
 * ```ts
 * import { channel } from "@ario/ario/channel";
 * const [tx, rx] = channel<number>();
 * (async () => {
 *   for (let i = 0; i < 3; i++) await tx.send(i);
 *   tx.close();
 * })();
 * for await (const v of rx) console.log(v); // 0 1 2
 * ```
 *
 * @module
 */
import { Deque, settle, type Waiter, waitIn } from "./_waiters.ts";

/**
 * Sending failed because the receiver closed; `value` is the value that was
 * not sent.
 *
 * @example
 * ```ts
 * import { channel, SendError } from "@ario/ario/channel";
 * const [tx, rx] = channel<string>();
 * rx.close();
 * try { await tx.send("lost"); } catch (e) { if (e instanceof SendError) console.log(e.value); }
 * ```
 */
export class SendError<T> extends Error {
  /** The value that could not be sent. */
  readonly value: T;
  /** An error carrying `value` back to the sender. */
  constructor(value: T) {
    super("Cannot send: the channel is closed");
    this.name = "SendError";
    this.value = value;
  }
}

/**
 * Receiving failed: every sender closed and no value is left.
 *
 * @example
 * ```ts
 * import { channel, RecvError } from "@ario/ario/channel";
 * const [tx, rx] = channel<number>();
 * tx.close();
 * await rx.receive().catch((e) => console.log(e instanceof RecvError)); // true
 * ```
 */
export class RecvError extends Error {
  /** The channel-closed error. */
  constructor() {
    super("Cannot receive: the channel is closed and empty");
    this.name = "RecvError";
  }
}

/**
 * {@linkcode Receiver.tryReceive} found no value: `kind` is `"empty"` (try
 * again later) or `"closed"` (no value will ever come).
 *
 * @example
 * ```ts
 * import { channel, TryRecvError } from "@ario/ario/channel";
 * const [_tx, rx] = channel<number>();
 * try { rx.tryReceive(); } catch (e) { console.log((e as TryRecvError).kind); } // "empty"
 * ```
 */
export class TryRecvError extends Error {
  /** Why no value: `"empty"` or `"closed"`. */
  readonly kind: "empty" | "closed";
  /** An error of this `kind`. */
  constructor(kind: "empty" | "closed") {
    super(
      kind === "empty"
        ? "Cannot receive: the channel is empty"
        : "Cannot receive: the channel is closed and empty",
    );
    this.name = "TryRecvError";
    this.kind = kind;
  }
  /** True when the channel was empty but still open. */
  get isEmpty(): boolean {
    return this.kind === "empty";
  }
  /** True when the channel is closed and empty. */
  get isClosed(): boolean {
    return this.kind === "closed";
  }
}

/**
 * Options of {@linkcode Receiver.receive} and {@linkcode Receiver.values}.
 *
 * @example
 * ```ts
 * import { channel } from "@ario/ario/channel";
 * const [_tx, rx] = channel<number>();
 * await rx.receive({ signal: AbortSignal.timeout(5) }).catch((e) => console.log(e.name)); // "TimeoutError"
 * ```
 */
export interface ReceiveOptions {
  /** Stops waiting: the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

class State<T> {
  readonly queue: Deque<T> = new Deque<T>();
  readonly receivers: Deque<Waiter<T>> = new Deque<Waiter<T>>();
  senders = 1;
  receiverClosed = false;
  get sendersClosed(): boolean {
    return this.senders === 0;
  }
}

/**
 * The sending half of a {@linkcode channel}. Clone it for more producers;
 * the receiver sees the end once every clone is closed.
 *
 * @example
 * ```ts
 * import { channel } from "@ario/ario/channel";
 * const [tx, rx] = channel<string>();
 * const tx2 = tx.clone();
 * await tx.send("a");
 * tx2.trySend("b");
 * tx.close();
 * tx2.close();
 * console.log(await rx.receive(), await rx.receive()); // a b
 * ```
 */
export class Sender<T> {
  readonly #s: State<T>;
  #closed = false;

  /** @ignore use {@linkcode channel}. */
  constructor(state: State<T>) {
    this.#s = state;
  }

  /**
   * Sends a value (never waits: the channel is unbounded). Rejects with
   * {@linkcode SendError} when the receiver closed or this sender closed.
   */
  send(value: T): Promise<void> {
    try {
      this.trySend(value);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Sends synchronously; throws {@linkcode SendError} when closed. */
  trySend(value: T): void {
    const s = this.#s;
    if (this.#closed || s.receiverClosed) throw new SendError(value);
    const w = s.receivers.shift();
    if (w) settle(w, true, value);
    else s.queue.push(value);
  }

  /** Another sender on the same channel (throws if this one is closed). */
  clone(): Sender<T> {
    if (this.#closed) throw new Error("Cannot clone sender: it is closed");
    this.#s.senders++;
    return new Sender(this.#s);
  }

  /** Whether the receiver closed (sends fail) or this sender closed. */
  get closed(): boolean {
    return this.#closed || this.#s.receiverClosed;
  }

  /**
   * Closes this sender. When the last sender closes, waiting receives
   * reject with {@linkcode RecvError} (queued values are still delivered).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const s = this.#s;
    if (--s.senders === 0) {
      for (const w of s.receivers.drain()) settle(w, false, new RecvError());
    }
  }

  /** Same as {@linkcode Sender.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * The receiving half of a {@linkcode channel}: receive one value, try
 * without waiting, or iterate until the channel closes.
 *
 * @example
 * ```ts
 * import { channel } from "@ario/ario/channel";
 * const [tx, rx] = channel<number>();
 * tx.trySend(1);
 * console.log(rx.tryReceive()); // 1
 * setTimeout(() => tx.trySend(2), 1);
 * console.log(await rx.receive()); // 2
 * ```
 */
export class Receiver<T> {
  readonly #s: State<T>;

  /** @ignore use {@linkcode channel}. */
  constructor(state: State<T>) {
    this.#s = state;
  }

  /**
   * Waits for the next value. Rejects with {@linkcode RecvError} once every
   * sender closed and the queue is empty (or this receiver closed), or with
   * the signal's reason when aborted. Concurrent receives are served FIFO.
   */
  receive(options: ReceiveOptions = {}): Promise<T> {
    const s = this.#s;
    if (s.queue.length > 0) return Promise.resolve(s.queue.shift()!);
    if (s.sendersClosed || s.receiverClosed) return Promise.reject(new RecvError());
    return waitIn(s.receivers, options.signal);
  }

  /** Takes a queued value now; throws {@linkcode TryRecvError} (`"empty"` or `"closed"`). */
  tryReceive(): T {
    const s = this.#s;
    if (s.queue.length > 0) return s.queue.shift()!;
    throw new TryRecvError(s.sendersClosed || s.receiverClosed ? "closed" : "empty");
  }

  /** Values queued and not received yet. */
  get size(): number {
    return this.#s.queue.length;
  }

  /** Whether no value will come: closed by every sender or by this receiver, and empty. */
  get closed(): boolean {
    return (this.#s.sendersClosed || this.#s.receiverClosed) && this.#s.queue.length === 0;
  }

  /**
   * Closes the channel from this side: sends fail with {@linkcode SendError},
   * queued values are dropped, waiting receives reject with {@linkcode RecvError}.
   */
  close(): void {
    const s = this.#s;
    if (s.receiverClosed) return;
    s.receiverClosed = true;
    s.queue.drain();
    for (const w of s.receivers.drain()) settle(w, false, new RecvError());
  }

  /** Same as {@linkcode Receiver.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Values until the channel closes (breaking out does not close it). */
  async *values(options: ReceiveOptions = {}): AsyncGenerator<T, void, undefined> {
    for (;;) {
      let v: T;
      try {
        v = await this.receive(options);
      } catch (e) {
        if (e instanceof RecvError) return;
        throw e;
      }
      yield v;
    }
  }

  /** Same as {@linkcode Receiver.values} without options. */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return this.values();
  }
}

/**
 * An unbounded channel: `[sender, receiver]`, after async_io's
 * `async_channel()`.
 *
 * @example
 * ```ts
 * import { channel } from "@ario/ario/channel";
 * const [tx, rx] = channel<string>();
 * await tx.send("hi");
 * console.log(await rx.receive()); // "hi"
 * ```
 */
export function channel<T>(): [Sender<T>, Receiver<T>] {
  const s = new State<T>();
  return [new Sender(s), new Receiver(s)];
}
