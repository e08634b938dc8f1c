/**
 * Tasks after the async_io runtime's `async_spawn()` / `JoinFuture` /
 * `runtime()`: {@linkcode spawn} starts a task and returns a
 * {@linkcode JoinHandle} (await it for the result, `detach()` it, or
 * `abort()` it through the `AbortSignal` the task receives);
 * {@linkcode runtime} runs a main task and settles when it and every
 * non-detached task spawned under it have ended.
 *
 * JS cannot stop a running function: abort is cooperative. The task gets
 * an `AbortSignal`; pass it on to the waits it makes (ario ops, timers,
 * channels, `fetch`…) and they reject with its reason.
 *
 * @example
 * ```ts
 * import { runtime, spawn, Timer } from "@ario/ario";
 * const total = await runtime(async () => {
 *   const a = spawn(async () => { await Timer.after(1); return 1; });
 *   const b = spawn(() => 2);
 *   return (await a) + (await b);
 * });
 * console.log(total); // 3
 * ```
 *
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";

/**
 * A task body: gets the task's abort signal, returns its result.
 *
 * @example
 * ```ts
 * import { spawn, type TaskFn, Timer } from "@ario/ario";
 * const tick: TaskFn<number> = (signal) => Timer.after(1).wait({ signal });
 * console.log(typeof await spawn(tick)); // "number"
 * ```
 */
export type TaskFn<T> = (signal: AbortSignal) => T | PromiseLike<T>;

class Scope {
  readonly tasks: Set<JoinHandle<unknown>> = new Set<JoinHandle<unknown>>();
  readonly errors: unknown[] = [];
  #onEmpty: (() => void) | undefined;

  add(h: JoinHandle<unknown>): void {
    this.tasks.add(h);
  }

  done(h: JoinHandle<unknown>, failed: boolean, error: unknown): void {
    if (!this.tasks.delete(h)) return; // detached
    if (failed && !h.observed) this.errors.push(error);
    if (this.tasks.size === 0) this.#onEmpty?.();
  }

  drop(h: JoinHandle<unknown>): void {
    if (this.tasks.delete(h) && this.tasks.size === 0) this.#onEmpty?.();
  }

  idle(): Promise<void> {
    if (this.tasks.size === 0) return Promise.resolve();
    return new Promise((r) => this.#onEmpty = r);
  }
}

const current = new AsyncLocalStorage<Scope>();

/**
 * A spawned task: awaitable (the task's result or error), with
 * {@linkcode JoinHandle.detach} and {@linkcode JoinHandle.abort}. Disposing
 * it (`using`) detaches, as dropping async_io's `JoinFuture` does.
 *
 * @example Abort a task that honours its signal
 * ```ts
 * import { spawn, Timer } from "@ario/ario";
 * const h = spawn((signal) => Timer.after(10_000).wait({ signal }));
 * h.abort(new Error("no longer needed"));
 * await h.catch((e) => console.log((e as Error).message)); // "no longer needed"
 * ```
 */
export class JoinHandle<T> implements PromiseLike<T> {
  readonly #result: Promise<T>;
  readonly #ac = new AbortController();
  readonly #scope: Scope | undefined;
  #settled = false;
  #detached = false;
  /** @ignore whether someone awaited the result (for the runtime's error report). */
  observed = false;

  /** @ignore use {@linkcode spawn}. */
  constructor(fn: TaskFn<T>, scope: Scope | undefined) {
    this.#scope = scope;
    const signal = this.#ac.signal;
    // start on a microtask, like a spawned future on its first poll
    this.#result = Promise.resolve().then(() => fn(signal));
    scope?.add(this as JoinHandle<unknown>);
    this.#result.then(
      () => this.#end(false, undefined),
      (e) => this.#end(true, e),
    );
  }

  /** The task's signal (aborted by {@linkcode JoinHandle.abort}). */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** Whether the task has finished (fulfilled or rejected). */
  get finished(): boolean {
    return this.#settled;
  }

  /** Whether {@linkcode JoinHandle.detach} was called. */
  get detached(): boolean {
    return this.#detached;
  }

  /** The result as a promise. */
  get result(): Promise<T> {
    this.observed = true;
    return this.#result;
  }

  /** Awaits the task's result. */
  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.observed = true;
    return this.#result.then(onFulfilled, onRejected);
  }

  /** Awaits the task, handling a failure. */
  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.then(undefined, onRejected);
  }

  /**
   * Lets the task run on its own: its runtime no longer waits for it, and its
   * failure is its own business (reported as an uncaught error, with
   * `reportError`, if nobody awaits the handle). Returns this.
   */
  detach(): this {
    if (this.#detached) return this;
    this.#detached = true;
    this.#scope?.drop(this as JoinHandle<unknown>);
    return this;
  }

  /**
   * Aborts the task's signal with `reason` (default an `AbortError`
   * DOMException). The handle settles when the task does: a task that
   * passes its signal to its waits rejects with `reason`.
   */
  abort(reason?: unknown): void {
    this.#ac.abort(reason);
  }

  /** Same as {@linkcode JoinHandle.detach}: `using h = spawn(...)`. */
  [Symbol.dispose](): void {
    this.detach();
  }

  #end(failed: boolean, error: unknown): void {
    this.#settled = true;
    if (this.#scope && !this.#detached) {
      this.#scope.done(this as JoinHandle<unknown>, failed, error);
    } else if (failed && !this.observed) {
      // nobody awaits a failed task outside a runtime: do not lose the error
      setTimeout(() => {
        if (!this.observed) reportError(error);
      }, 0);
    }
  }
}

/**
 * Starts `fn` as a task (on a microtask, with its own `AbortSignal`) and
 * returns its {@linkcode JoinHandle}. Inside {@linkcode runtime}, the runtime
 * waits for it unless detached.
 *
 * @example
 * ```ts
 * import { spawn } from "@ario/ario";
 * const h = spawn(async () => 6 * 7);
 * console.log(await h); // 42
 * ```
 */
export function spawn<T>(fn: TaskFn<T>): JoinHandle<T> {
  return new JoinHandle(fn, current.getStore());
}

/**
 * Thrown by {@linkcode runtime} when tasks nobody awaited failed: `errors`
 * holds their failures.
 *
 * @example
 * ```ts
 * import { runtime, spawn, TaskError } from "@ario/ario";
 * await runtime(() => { spawn(() => { throw new Error("boom"); }); })
 *   .catch((e) => console.log(e instanceof TaskError, e.errors.length)); // true 1
 * ```
 */
export class TaskError extends AggregateError {
  /** Failures of unawaited tasks. */
  constructor(errors: unknown[]) {
    super(errors, `${errors.length} spawned task(s) failed and nobody awaited them`);
    this.name = "TaskError";
  }
}

/**
 * Runs `main` as the root task and waits until it and every non-detached
 * task spawned under it (directly or by those tasks) have ended; resolves
 * with `main`'s result. Rejects with `main`'s error, or with a
 * {@linkcode TaskError} if a task nobody awaited failed. A Deno program
 * then exits by itself once nothing else is pending.
 *
 * @example After async_io's `execution::runtime(async_main())`
 * ```ts
 * import { channel, runtime, spawn } from "@ario/ario";
 * await runtime(async () => {
 *   const [tx, rx] = channel<string>();
 *   spawn(async () => {
 *     for await (const line of rx) console.log(line);
 *   });
 *   await tx.send("hello");
 *   tx.close(); // the consumer ends, then the runtime
 * });
 * ```
 */
export async function runtime<T>(main: TaskFn<T>): Promise<T> {
  const scope = new Scope();
  const root = current.run(scope, () => new JoinHandle(main, scope));
  root.observed = true;
  let value: T | undefined;
  let failure: { error: unknown } | undefined;
  try {
    value = await root;
  } catch (e) {
    failure = { error: e };
  }
  // tasks spawned later by running tasks join the same scope
  while (scope.tasks.size > 0) await scope.idle();
  if (failure) throw failure.error;
  if (scope.errors.length > 0) throw new TaskError(scope.errors);
  return value as T;
}
