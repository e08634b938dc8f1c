/**
 * What an uncaught error does to the C loops: the process's doorbell
 * threads must not be inside Deno's teardown, and a dying Worker closes
 * what its objects own, as a process exit would.
 *
 * @module
 */
import type { Symbols } from "./ffi/symbols.ts";

let fatalWatched = false;

/**
 * An uncaught error ends the process without `unload`, and Deno's teardown
 * crashes under a doorbell thread that is inside (or enters) its callback.
 * `ario_bell_exiting(1)` first shuts the door: from then on no doorbell
 * thread enters its callback (bell.c), and it returns how many are inside
 * or committed to entering. None: Deno's own exit is safe, and Deno prints
 * its "error: Uncaught". Some (blocked until JS runs a callback it never
 * will): the error is reported as Deno would and the process leaves
 * through `Deno.exit(1)`, which is safe with the thread there. If the
 * process survives (a later listener cancelled the event), the door opens
 * again on the next macrotask. Not in a Worker: its errors go to the
 * parent, and it has no doorbell thread.
 */
export function watchFatalErrors(lib: Symbols): void {
  if (fatalWatched) return;
  fatalWatched = true;
  const onFatal = (e: Event) => {
    if (e.defaultPrevented) return;
    if (lib.ario_bell_exiting(1) === 0) {
      setTimeout(() => lib.ario_bell_exiting(-1), 0); // only runs if the process survived
      return;
    }
    // A doorbell thread is in its callback: Deno must not tear down now.
    // Hold the exit, see whether a later listener cancels the event, then
    // exit as Deno would have (or open the door again).
    let cancelled = false;
    const prevent = e.preventDefault;
    Object.defineProperty(e, "preventDefault", {
      configurable: true,
      value: () => {
        cancelled = true;
      },
    });
    prevent.call(e);
    queueMicrotask(() => {
      if (cancelled) {
        lib.ario_bell_exiting(-1);
        return;
      }
      const rejected = e instanceof PromiseRejectionEvent;
      const err = rejected ? e.reason : (e as ErrorEvent).error;
      console.error(`error: Uncaught ${rejected ? "(in promise) " : ""}${err?.stack ?? err}`);
      Deno.exit(1);
    });
  };
  globalThis.addEventListener("error", onFatal);
  globalThis.addEventListener("unhandledrejection", onFatal);
}

/** Whether this code runs in a Worker (where `Worker.terminate()` fires no `unload`). */
export function inWorker(): boolean {
  const scope = (globalThis as { WorkerGlobalScope?: abstract new () => unknown })
    .WorkerGlobalScope;
  return typeof scope === "function" && globalThis instanceof scope;
}

/**
 * In a Worker: before an uncaught error ends it, close what its objects
 * own. Deno runs no more microtasks in a Worker once such an error is not
 * handled, and a later listener may still handle it; so the first sight
 * holds it (preventDefault), a microtask looks whether anyone else
 * handled it, and if not, raises it again; the second sight closes the
 * descriptors synchronously and lets the Worker end as it would have.
 */
export function watchWorkerDeath(closed: () => boolean, abandon: () => void): () => void {
  let raising = false;
  const onFatal = (e: Event) => {
    if (e.defaultPrevented || closed()) return;
    if (raising) return abandon(); // the Worker ends now
    let handled = false;
    const prevent = e.preventDefault;
    Object.defineProperty(e, "preventDefault", {
      configurable: true,
      value: () => {
        handled = true;
      },
    });
    prevent.call(e);
    const rejected = e instanceof PromiseRejectionEvent;
    const err = rejected ? e.reason : (e as ErrorEvent).error;
    queueMicrotask(() => {
      if (handled) return;
      raising = true;
      if (rejected) Promise.reject(err);
      else throw err;
    });
  };
  globalThis.addEventListener("error", onFatal);
  globalThis.addEventListener("unhandledrejection", onFatal);
  return () => { // the reactor closed: nothing left to close for it
    globalThis.removeEventListener("error", onFatal);
    globalThis.removeEventListener("unhandledrejection", onFatal);
  };
}

/** Descriptors the objects of each reactor own (Async): closed if its Worker dies. */
const owned = new WeakMap<object, Set<number>>();

/** An object of reactor `r` owns `fd` (the socket classes call it at construction). */
export function ownFd(r: object, fd: number): void {
  let set = owned.get(r);
  if (!set) owned.set(r, set = new Set());
  set.add(fd);
}

/** `fd` is being closed: no longer `r`'s to close. */
export function disownFd(r: object, fd: number): void {
  owned.get(r)?.delete(fd);
}

/** What `r`'s objects own, forgotten as it is handed out (a dying Worker closes it). */
export function takeOwnedFds(r: object): number[] {
  const fds = [...owned.get(r) ?? []];
  owned.delete(r);
  return fds;
}
