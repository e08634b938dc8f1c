/**
 * Regular files through the reactor: {@linkcode AsyncFile} opens a file and
 * reads and writes it at offsets, syncs and closes it, each an op of the
 * reactor (io_uring runs them in the kernel; epoll, poll and select, which
 * cannot poll a regular file, on the reactor's file pool of at most
 * `POOL_THREADS` threads).
 *
 * @module
 */
import { constants, type IoError } from "./errors.ts";
import { disownFd, ownFd } from "./fatal.ts";
import { closedError } from "./errors.ts";
import { type Reactor, sharedReactor } from "./reactor.ts";
import type { Operation } from "./operation.ts";
import { op, single } from "./submit.ts";

/** How {@linkcode AsyncFile.open} opens a file (as `Deno.OpenOptions`). */
export interface OpenOptions {
  /** Open for reading (default true unless `write` or `append` is given). */
  read?: boolean;
  /** Open for writing. */
  write?: boolean;
  /** Writes go to the end of the file (implies `write`). */
  append?: boolean;
  /** Create the file if it does not exist (needs `write` or `append`). */
  create?: boolean;
  /** Create the file, failing (AlreadyExists) if it exists (needs `write` or `append`). */
  createNew?: boolean;
  /** Truncate the file to 0 bytes (needs `write`). */
  truncate?: boolean;
  /** Permission bits of a file it creates, before the umask (default 0o666). */
  mode?: number;
  /** Reactor to use; default the shared one. */
  reactor?: Reactor;
}

/** Options of {@linkcode AsyncFile} reads and writes. */
export interface FileIoOptions {
  /** Cancels the op if it has not started yet (a running file op finishes). */
  signal?: AbortSignal;
}

/** The `O_*` flags of open options, or a TypeError naming the bad combination. */
function openFlags(path: string, o: OpenOptions): number {
  const write = !!(o.write || o.append);
  const read = o.read ?? !write;
  if (!read && !write) {
    throw new TypeError(`Cannot open "${path}": read, write or append must be true`);
  }
  if ((o.create || o.createNew || o.truncate) && !write) {
    throw new TypeError(`Cannot open "${path}": create, createNew and truncate need write`);
  }
  if (o.truncate && o.append) {
    throw new TypeError(`Cannot open "${path}": truncate and append exclude each other`);
  }
  const c = constants;
  return (read && write ? c.O_RDWR : write ? c.O_WRONLY : c.O_RDONLY) |
    (o.append ? c.O_APPEND : 0) | (o.create || o.createNew ? c.O_CREAT : 0) |
    (o.createNew ? c.O_EXCL : 0) | (o.truncate ? c.O_TRUNC : 0);
}

/**
 * A regular file driven by the reactor: positional reads and writes
 * (`pread`/`pwrite`), sync and close as ops, so many of them run at once
 * without blocking the event loop, on every backend. The memory C reads or
 * writes is its own: a read is copied into `buf` when it completes, a
 * write copies `buf` when it is called.
 *
 * **Cancelling.** An op that has not started yet (queued behind others on
 * the file pool) is cancelled by its signal or by {@linkcode AsyncFile.close};
 * one that runs cannot be stopped and completes with its result.
 *
 * @example Write at an offset and read it back
 * ```ts
 * import { AsyncFile } from "@ario/ario";
 * const path = await Deno.makeTempFile();
 * await using f = await AsyncFile.open(path, { read: true, write: true });
 * await f.write(new TextEncoder().encode("hello"), 100);
 * const buf = new Uint8Array(5);
 * console.log(await f.read(buf, 100)); // 5
 * console.log(new TextDecoder().decode(buf)); // "hello"
 * console.log(await f.read(buf, 105)); // null: the end of the file
 * await Deno.remove(path);
 * ```
 */
export class AsyncFile implements AsyncDisposable {
  readonly #fd: number;
  readonly #r: Reactor;
  readonly #path: string;
  #closing?: Promise<void>;

  private constructor(fd: number, path: string, reactor: Reactor) {
    this.#fd = fd;
    this.#path = path;
    this.#r = reactor;
    ownFd(reactor, fd);
  }

  /**
   * Opens `path` (a string or file URL) with `options` (default: read
   * only). Rejects with the `Deno.errors` class of the errno (NotFound,
   * AlreadyExists, PermissionDenied...).
   *
   * @example Create a file
   * ```ts
   * import { AsyncFile } from "@ario/ario";
   * const path = (await Deno.makeTempDir()) + "/new.txt";
   * await using f = await AsyncFile.open(path, { write: true, createNew: true, mode: 0o600 });
   * console.log(await f.write(new Uint8Array([1, 2, 3]), 0)); // 3
   * ```
   */
  static async open(path: string | URL, options: OpenOptions = {}): Promise<AsyncFile> {
    const p = path instanceof URL ? decodeURIComponent(path.pathname) : path;
    if (typeof p !== "string") throw new TypeError("Cannot open: path must be a string or a URL");
    if (path instanceof URL && path.protocol !== "file:") {
      throw new TypeError(`Cannot open ${path.href}: only file: URLs name files`);
    }
    const reactor = options.reactor ?? sharedReactor();
    const fd = await single(op.openat(p, openFlags(p, options), options.mode ?? 0o666), {
      reactor,
    });
    return new AsyncFile(fd, p, reactor);
  }

  /** The descriptor (owned by this object until it is closed). */
  get fd(): number {
    return this.#fd;
  }

  /** The path it was opened with. */
  get path(): string {
    return this.#path;
  }

  /** Whether {@linkcode AsyncFile.close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The reactor this file's ops go to. */
  get reactor(): Reactor {
    return this.#r;
  }

  /** Runs one op of this file; ECANCELED after close() reads as BadResource. */
  async #run<T>(o: Operation<T>, what: string, signal?: AbortSignal): Promise<T> {
    if (this.#closing) throw closedError(what, o.name, false);
    try {
      return await single(o, { reactor: this.#r, signal });
    } catch (e) {
      if (this.#closing && (e as IoError).code === "ECANCELED") {
        throw closedError(what, o.name, true);
      }
      throw e;
    }
  }

  /**
   * Reads into `buf` from file offset `offset` (default: the file
   * position, which it advances); resolves with the byte count, fewer near
   * the end of the file, or `null` at its end.
   *
   * @example Read the first bytes
   * ```ts
   * import { AsyncFile } from "@ario/ario";
   * const path = await Deno.makeTempFile();
   * await Deno.writeTextFile(path, "abc");
   * await using f = await AsyncFile.open(path);
   * const buf = new Uint8Array(8);
   * console.log(await f.read(buf, 0)); // 3
   * ```
   */
  async read(buf: Uint8Array, offset?: number, o?: FileIoOptions): Promise<number | null> {
    const n = await this.#run(op.read(this.#fd, buf, { offset }), "read", o?.signal);
    return n === 0 && buf.length > 0 ? null : n;
  }

  /**
   * Writes `buf` at file offset `offset` (default: the file position, or
   * the end with `append`); resolves with the bytes written (a regular
   * file takes them all unless the disk is full).
   *
   * @example
   * ```ts
   * import { AsyncFile } from "@ario/ario";
   * const path = await Deno.makeTempFile();
   * await using f = await AsyncFile.open(path, { write: true });
   * console.log(await f.write(new TextEncoder().encode("hi"), 4)); // 2
   * console.log((await Deno.stat(path)).size); // 6
   * ```
   */
  write(buf: Uint8Array, offset?: number, o?: FileIoOptions): Promise<number> {
    return this.#run(op.write(this.#fd, buf, { offset }), "write", o?.signal);
  }

  /**
   * Flushes the file to its device (fsync), or only its data with
   * `datasync` (fdatasync).
   *
   * @example
   * ```ts
   * import { AsyncFile } from "@ario/ario";
   * const path = await Deno.makeTempFile();
   * await using f = await AsyncFile.open(path, { write: true });
   * await f.write(new Uint8Array(16), 0);
   * await f.sync({ datasync: true });
   * ```
   */
  sync(o?: { datasync?: boolean } & FileIoOptions): Promise<void> {
    return this.#run(op.fsync(this.#fd, { datasync: o?.datasync }), "sync", o?.signal);
  }

  /**
   * Closes the file. Ops not yet started reject with
   * `Deno.errors.BadResource` (ECANCELED); one that runs completes first
   * (the descriptor is closed after it, so its number is never reused
   * under it). Safe to call twice.
   *
   * @example
   * ```ts
   * import { AsyncFile } from "@ario/ario";
   * const path = await Deno.makeTempFile();
   * const f = await AsyncFile.open(path);
   * await f.close();
   * console.log(f.closed); // true
   * ```
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const r = this.#r;
    disownFd(r, this.#fd);
    if (r.closed) {
      r.closeFd(this.#fd);
      this.#closing = Promise.resolve();
    } else {
      this.#closing = single(op.close(this.#fd), { reactor: r }).catch(() => {});
    }
    return this.#closing;
  }

  /**
   * Closes the file (as {@linkcode AsyncFile.close}) at the end of a scope.
   *
   * @example
   * ```ts
   * import { AsyncFile } from "@ario/ario";
   * const path = await Deno.makeTempFile();
   * await using f = await AsyncFile.open(path);
   * console.log(f.closed); // false, until the scope ends
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
