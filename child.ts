/**
 * A child process's exit as a reactor wait (Linux pidfd): {@linkcode ChildExit}
 * spawns a `Deno.Command` and opens a pidfd for the child in the same
 * synchronous step, so a tool can await the child alongside its sockets,
 * bound it with a signal, or put a POLL on it in a batch. Deno still owns
 * the child: ario never waits for or reaps it, and `child.status` gives
 * the exit code as before.
 *
 * Why spawning is part of it: Deno reaps a child on its event loop as soon
 * as the child exits, and a reaped child's pid may be handed to another
 * process. A pidfd opened from `child.pid` after the event loop ran could
 * name that other process; opened in the same turn as `spawn()`, the pid
 * is still the (alive or zombie) child's.
 *
 * @example Await a child and a socket together
 * ```ts
 * import { ChildExit, UdpSocket } from "@ario/ario";
 * if (Deno.build.os === "linux") {
 *   using exit = ChildExit.spawn(new Deno.Command("sleep", { args: ["0.05"] }));
 *   using sock = UdpSocket.bind({ hostname: "127.0.0.1", port: 0 });
 *   const first = await Promise.race([
 *     exit.wait().then(() => "child"),
 *     sock.recv(new Uint8Array(8)).then(() => "datagram"),
 *   ]);
 *   console.log(first, (await exit.child.status).code); // "child" 0
 * }
 * ```
 *
 * @module
 */
import { Async, type SignalOptions } from "./async.ts";
import { load } from "./ffi/load.ts";
import { POLL } from "./ffi/layout.ts";
import { fail } from "./net.ts";
import type { Reactor } from "./reactor.ts";
import type { LinkOptions, Operation } from "./operation.ts";
import { op } from "./submit.ts";

/** Options of {@linkcode ChildExit.spawn}. */
export interface ChildExitOptions {
  /** Reactor to wait on; default the shared one. */
  reactor?: Reactor;
}

/**
 * A spawned child and a pidfd that turns readable when it exits (Linux
 * 5.3+; elsewhere {@linkcode ChildExit.spawn} throws ENOSYS and the child
 * is not started). Close it (or `using`) when done: that closes the
 * pidfd, never the child.
 *
 * @example Bound a child's run with a deadline, then read its status
 * ```ts
 * import { ChildExit } from "@ario/ario";
 * if (Deno.build.os === "linux") {
 *   using exit = ChildExit.spawn(new Deno.Command("sleep", { args: ["5"] }));
 *   try {
 *     await exit.wait({ signal: AbortSignal.timeout(50) });
 *   } catch {
 *     exit.child.kill("SIGKILL"); // too slow
 *   }
 *   await exit.wait();
 *   console.log((await exit.child.status).signal); // "SIGKILL"
 * }
 * ```
 */
export class ChildExit implements Disposable {
  /** The child, as `Deno.Command.spawn()` returned it. */
  readonly child: Deno.ChildProcess;
  readonly #pidfd: Async;

  private constructor(child: Deno.ChildProcess, pidfd: number, reactor?: Reactor) {
    this.child = child;
    this.#pidfd = new Async(pidfd, undefined, reactor);
  }

  /**
   * Spawns `command` and opens its child's pidfd before anything else can
   * run. Throws (without spawning) where there are no pidfds.
   *
   * @example
   * ```ts
   * import { ChildExit } from "@ario/ario";
   * if (Deno.build.os === "linux") {
   *   using exit = ChildExit.spawn(new Deno.Command("true"));
   *   await exit.wait();
   *   console.log((await exit.child.status).success); // true
   * }
   * ```
   */
  static spawn(command: Deno.Command, options: ChildExitOptions = {}): ChildExit {
    if (!(command instanceof Deno.Command)) {
      throw new TypeError("Cannot watch a child: expected a Deno.Command");
    }
    const lib = load();
    // can this kernel open pidfds at all (our own pid)? If not, spawn nothing
    const self = lib.ario_pidfd_open(Deno.pid);
    if (self < 0) fail(self, "pidfd_open", "Cannot watch a child: no pidfds here");
    lib.ario_close(null, self);
    const child = command.spawn();
    // same turn as spawn(): Deno cannot have reaped it, so the pid is this child's
    const fd = lib.ario_pidfd_open(child.pid);
    if (fd < 0) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone already */ }
      fail(fd, "pidfd_open", `Cannot watch child ${child.pid}`);
    }
    return new ChildExit(child, fd, options.reactor);
  }

  /** The pidfd (readable once the child exited). */
  get fd(): number {
    return this.#pidfd.fd;
  }

  /**
   * Resolves once the child has exited (it may not be reaped yet: await
   * `child.status` for its code). Rejects with the signal's reason when
   * aborted, or BadResource once closed.
   *
   * @example
   * ```ts
   * import { ChildExit } from "@ario/ario";
   * if (Deno.build.os === "linux") {
   *   using exit = ChildExit.spawn(new Deno.Command("sleep", { args: ["0.02"] }));
   *   const t0 = performance.now();
   *   await exit.wait();
   *   console.log(performance.now() - t0 >= 15); // true
   * }
   * ```
   */
  async wait(options?: SignalOptions): Promise<void> {
    await this.#pidfd.ready(POLL.IN, options);
  }

  /**
   * A POLL op on the pidfd for a batch ({@linkcode multi}): resolves to
   * `POLL.IN` once the child has exited (`POLL.IN | POLL.HUP` once Deno
   * has reaped it as well).
   *
   * @example A child's exit bounded by a linked timeout
   * ```ts
   * import { ChildExit, multi, op, POLL } from "@ario/ario";
   * if (Deno.build.os === "linux") {
   *   using exit = ChildExit.spawn(new Deno.Command("sleep", { args: ["0.01"] }));
   *   const [events, fired] = await multi([exit.op({ link: "soft" }), op.linkTimeout(5000)]);
   *   console.log((events as number) & POLL.IN, fired); // 1 false
   * }
   * ```
   */
  op(o?: LinkOptions): Operation<number> {
    return op.poll(this.fd, POLL.IN, o);
  }

  /** Closes the pidfd (pending waits reject); the child runs on, untouched. */
  close(): void {
    this.#pidfd.close();
  }

  /** Same as {@linkcode ChildExit.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
