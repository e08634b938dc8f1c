/**
 * Using every core: {@linkcode WorkerPool} runs one module in N Workers,
 * each with its own reactor (a Worker's `sharedReactor()` is its own C
 * loop), restarts a Worker that dies, and stops them all cleanly. Each
 * Worker binds its listener with `reusePort: true`, so the kernel spreads
 * new connections over the Workers' listeners; inside one,
 * {@linkcode poolWorker} gives the Worker its index, the pool's data and
 * an `AbortSignal` that fires when the pool stops it.
 *
 * @example The pool in the main thread, one listener per Worker in the module
 * ```ts ignore
 * // main.ts
 * import { WorkerPool } from "@ario/ario/workers";
 * const pool = new WorkerPool(new URL("./echo_worker.ts", import.meta.url), {
 *   count: navigator.hardwareConcurrency,
 *   data: { port: 8000 },
 * });
 * Deno.addSignalListener("SIGINT", () => pool.close());
 * await pool.closed;
 *
 * // echo_worker.ts
 * import { poolWorker, TcpListener } from "@ario/ario";
 * const { data, signal, exit } = await poolWorker<{ port: number }>();
 * const listener = TcpListener.bind({ port: data.port }, { reusePort: true });
 * signal.addEventListener("abort", () => listener.close());
 * for await (const conn of listener) conn.readable.pipeTo(conn.writable).catch(() => {});
 * exit();
 * ```
 *
 * @module
 */

import { closeSharedReactor } from "./reactor.ts";

/** Options of {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** How many Workers (default `navigator.hardwareConcurrency`). */
  count?: number;
  /** Given to every Worker (structured-cloned): {@linkcode PoolWorker.data}. */
  data?: unknown;
  /** Start a new Worker in place of one that died (default true). */
  restart?: boolean;
  /** How long {@linkcode WorkerPool.close} waits for a Worker to exit before terminating it (ms, default 5000). */
  graceMs?: number;
  /** A Worker died with this error (default: printed with console.error). */
  onError?: (index: number, error: ErrorEvent) => void;
  /** A message a Worker posted that is not the pool's own. */
  onMessage?: (index: number, message: unknown) => void;
}

/** The pool's messages, tagged so they never mix with the application's. */
const TAG = "@ario/ario/workers";
type PoolMessage =
  | { [TAG]: "hello" }
  | { [TAG]: "start"; index: number; data: unknown }
  | { [TAG]: "stop" }
  | { [TAG]: "exit" };
const isPool = (m: unknown): m is PoolMessage =>
  typeof m === "object" && m !== null && TAG in (m as Record<string, unknown>);

/** Longest wait between restarts of a Worker that keeps dying (ms). */
const MAX_BACKOFF_MS = 5_000;

/**
 * N Workers running one module: started at once, restarted when one dies
 * (after 0, 100, 200, 400... ms while it keeps dying at start), stopped
 * by {@linkcode WorkerPool.close}.
 *
 * @example Stop the pool on SIGTERM
 * ```ts ignore
 * import { WorkerPool } from "@ario/ario/workers";
 * const pool = new WorkerPool(new URL("./server.ts", import.meta.url), { count: 4 });
 * Deno.addSignalListener("SIGTERM", () => pool.close());
 * await pool.closed;
 * ```
 */
export class WorkerPool implements AsyncDisposable {
  readonly #url: string | URL;
  readonly #options: WorkerPoolOptions;
  readonly #workers: (Worker | undefined)[];
  readonly #exited: (() => void)[] = [];
  readonly #deaths: number[];
  #restarts = 0;
  #closing?: Promise<void>;
  #resolveClosed!: () => void;
  /** Resolves once {@linkcode WorkerPool.close} has stopped every Worker. */
  readonly closed: Promise<void> = new Promise((r) => this.#resolveClosed = r);

  /**
   * Starts `options.count` Workers running the module at `url`.
   *
   * @example
   * ```ts ignore
   * const pool = new WorkerPool(new URL("./server.ts", import.meta.url), { count: 2 });
   * ```
   */
  constructor(url: string | URL, options: WorkerPoolOptions = {}) {
    const count = options.count ?? navigator.hardwareConcurrency;
    if (!Number.isInteger(count) || count < 1 || count > 1024) {
      throw new RangeError(`Cannot start a worker pool: count must be 1..1024, got ${count}`);
    }
    this.#url = url;
    this.#options = options;
    this.#workers = new Array(count);
    this.#deaths = new Array(count).fill(0);
    for (let i = 0; i < count; i++) this.#start(i);
  }

  /** How many Workers the pool runs. */
  get size(): number {
    return this.#workers.length;
  }

  /** How many Workers were started in place of ones that died. */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Posts `message` to Worker `index` (or to every Worker without one).
   *
   * @example
   * ```ts ignore
   * pool.post({ reload: true });
   * ```
   */
  post(message: unknown, index?: number): void {
    for (let i = 0; i < this.#workers.length; i++) {
      if (index === undefined || i === index) this.#workers[i]?.postMessage(message);
    }
  }

  #start(index: number): void {
    const w = new Worker(this.#url, { type: "module", name: `pool-${index}` });
    this.#workers[index] = w;
    const started = performance.now();
    w.onmessage = (e: MessageEvent) => {
      if (!isPool(e.data)) return this.#options.onMessage?.(index, e.data);
      if (e.data[TAG] === "exit") return this.#gone(index, w);
      if (e.data[TAG] === "hello") { // it called poolWorker(): it listens now
        const start: PoolMessage = { [TAG]: "start", index, data: this.#options.data };
        w.postMessage(start);
        if (this.#closing) w.postMessage({ [TAG]: "stop" } satisfies PoolMessage);
      }
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // the pool handles it: the main thread goes on
      (this.#options.onError ?? ((i, ev) => console.error(`worker ${i}: ${ev.message}`)))(index, e);
      this.#gone(index, w);
      if (this.#closing || this.#options.restart === false) return;
      // a Worker that dies soon after it started backs off: 100 ms, doubling
      this.#deaths[index] = performance.now() - started < 1_000 ? this.#deaths[index] + 1 : 0;
      const wait = Math.min(
        MAX_BACKOFF_MS,
        this.#deaths[index] ? 50 * 2 ** this.#deaths[index] : 0,
      );
      setTimeout(() => {
        if (this.#closing || this.#workers[index]) return;
        this.#restarts++;
        this.#start(index);
      }, wait);
    };
  }

  /** Worker `index` ended (it exited, died or was terminated). */
  #gone(index: number, w: Worker): void {
    if (this.#workers[index] !== w) return;
    this.#workers[index] = undefined;
    w.terminate();
    this.#exited.splice(0).forEach((f) => f());
  }

  /**
   * Asks every Worker to stop (its {@linkcode PoolWorker.signal} aborts),
   * waits up to `graceMs` for each to call {@linkcode PoolWorker.exit},
   * terminates the rest, and resolves {@linkcode WorkerPool.closed}.
   * Calling it again returns the same promise.
   *
   * @example
   * ```ts ignore
   * await pool.close();
   * ```
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      const stop: PoolMessage = { [TAG]: "stop" };
      this.post(stop);
      const until = performance.now() + (this.#options.graceMs ?? 5_000);
      while (this.#workers.some((w) => w) && performance.now() < until) {
        await new Promise<void>((r) => { // an exit or the grace's end, whichever comes first
          const grace = setTimeout(r, Math.max(1, until - performance.now()));
          this.#exited.push(() => {
            clearTimeout(grace); // a pending timer would hold the process for the grace
            r();
          });
        });
      }
      this.#workers.forEach((w, i) => w && this.#gone(i, w));
      this.#resolveClosed();
    })();
  }

  /**
   * Same as {@linkcode WorkerPool.close}, for `await using`.
   *
   * @example
   * ```ts ignore
   * await using pool = new WorkerPool(url, { count: 2 });
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** What a Worker of a {@linkcode WorkerPool} knows of its pool. */
export interface PoolWorker<T = unknown> {
  /** Its index in the pool, 0..size-1 (a restarted Worker keeps its index). */
  readonly index: number;
  /** The pool's `data`. */
  readonly data: T;
  /** Aborts when the pool stops this Worker: close listeners, finish, then call `exit`. */
  readonly signal: AbortSignal;
  /**
   * Closes this Worker's reactor (the C loop and its descriptors), tells
   * the pool this Worker is done, and closes it (`self.close()`).
   */
  exit(): Promise<void>;
}

let self_: Promise<PoolWorker> | undefined;

/**
 * Inside a Worker started by a {@linkcode WorkerPool}: resolves with its
 * index, the pool's data and the stop signal once the pool's start
 * message arrived.
 *
 * @example
 * ```ts ignore
 * import { poolWorker } from "@ario/ario/workers";
 * const { index, signal, exit } = await poolWorker();
 * signal.addEventListener("abort", () => exit());
 * ```
 */
export function poolWorker<T = unknown>(): Promise<PoolWorker<T>> {
  const scope = globalThis as unknown as {
    postMessage?(m: unknown): void;
    close?(): void;
    addEventListener(t: "message", f: (e: MessageEvent) => void): void;
  };
  if (typeof scope.postMessage !== "function" || typeof scope.close !== "function") {
    return Promise.reject(new TypeError("Cannot join a worker pool: not inside a Worker"));
  }
  return (self_ ??= new Promise((resolve) => {
    const stop = new AbortController();
    const hello: PoolMessage = { [TAG]: "hello" };
    scope.addEventListener("message", (e: MessageEvent) => {
      if (!isPool(e.data)) return;
      const m = e.data;
      if (m[TAG] === "start") {
        resolve({
          index: m.index,
          data: m.data,
          signal: stop.signal,
          async exit() {
            await closeSharedReactor();
            const bye: PoolMessage = { [TAG]: "exit" };
            scope.postMessage!(bye);
            scope.close!();
          },
        });
      } else if (m[TAG] === "stop") {
        stop.abort(new DOMException("the worker pool is stopping", "AbortError"));
      }
    });
    scope.postMessage!(hello); // the pool answers with the start message
  })) as Promise<PoolWorker<T>>;
}
