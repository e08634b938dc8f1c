/**
 * I/O memory: the bytes C (or the kernel) may read or write while an op is
 * in flight live in C-owned regions (`ario_mem_alloc`), never in a JS
 * ArrayBuffer. JS can transfer (to any length), resize, detach, drop or
 * collect its buffers, and a terminated Worker frees all of them, at any
 * moment; none of that can reach a region: its JS wrapper
 * (`UnsafePointerView.getArrayBuffer`) has no deleter, so only
 * {@linkcode ioRelease} ever returns it, and only once its op completed.
 *
 * A read lands in a region and is copied into the caller's view when it
 * completes (if the view can still hold it); a write is copied into a region
 * when it is submitted, so it sends what the buffer held at that moment.
 * A `SharedArrayBuffer` can be neither detached nor shrunk: a view of more
 * than 4 KiB on one is used in place (the op holds it until it completes; only a Worker terminated while
 * it holds the last reference frees it, so share it with an isolate that
 * outlives the op).
 *
 * Regions are recycled in power-of-two classes (256 B to 1 MiB; larger ones
 * by exact size); at most {@linkcode IO_IDLE_MAX} bytes stay idle, the rest
 * go back to C at once, and {@linkcode ioTrim} (called when a reactor
 * closes) frees every idle region.
 *
 * @module
 */
import type { Addr, AnyAddr } from "./addr.ts";
import { load } from "./ffi/load.ts";

/** Bytes of idle regions kept for reuse; a released region beyond this is freed. */
export const IO_IDLE_MAX = 16 * 1024 * 1024;
const MIN_SHIFT = 8; // 256 B
const CLASSES = 13; // 256 B .. 1 MiB
const LARGE_STEP = 64 * 1024;

/** One C-owned region: its bytes, as a view and as a numeric address. */
export interface IoRegion {
  /** The whole region (a JS wrapper over C memory; never freed by JS). */
  readonly view: Uint8Array;
  /** Its first byte's address, for a submission entry. */
  readonly addr: number;
  /** Its size in bytes. */
  readonly size: number;
  /** @internal Its pointer, to free it. */
  readonly ptr: Deno.PointerObject;
  /** @internal Whether it is handed out (guards a double release). */
  busy: boolean;
  /** @internal Its size class (an index into the free lists), or -1 for a large one. */
  readonly cls: number;
}

const free: IoRegion[][] = Array.from({ length: CLASSES }, () => []);
const freeLarge = new Map<number, IoRegion[]>();
let idle = 0;
let live = 0;

const LARGEST = 1 << (MIN_SHIFT + CLASSES - 1);

/** The size class of `n` bytes (-1: larger than every class). */
function classOf(n: number): number {
  if (n <= 1 << MIN_SHIFT) return 0;
  return n <= LARGEST ? 32 - Math.clz32(n - 1) - MIN_SHIFT : -1;
}

/**
 * A region of at least `n` bytes (its contents are whatever the last user
 * left). Throws a RangeError for a bad `n`, an Error if C has no memory.
 */
export function ioAcquire(n: number): IoRegion {
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 40) {
    throw new RangeError(`Cannot allocate I/O memory: bad length ${n}`);
  }
  const cls = classOf(n);
  const size = cls >= 0 ? 1 << (cls + MIN_SHIFT) : Math.ceil(n / LARGE_STEP) * LARGE_STEP;
  const r = cls >= 0 ? free[cls].pop() : freeLarge.get(size)?.pop();
  if (r) {
    idle -= size;
    r.busy = true;
    return r;
  }
  const ptr = load().ario_mem_alloc(BigInt(size));
  if (ptr === null) throw new Error(`Cannot allocate I/O memory: ${size} bytes (ENOMEM)`);
  live += size;
  return {
    view: new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(ptr, size)),
    addr: Number(Deno.UnsafePointer.value(ptr)),
    size,
    ptr,
    busy: true,
    cls,
  };
}

/** Gives a region back once nothing (C, the kernel, an op) can use it any more. */
export function ioRelease(r: IoRegion): void {
  if (!r.busy) throw new Error("Cannot release I/O memory: released twice");
  r.busy = false;
  if (idle + r.size <= IO_IDLE_MAX) {
    idle += r.size;
    if (r.cls >= 0) free[r.cls].push(r);
    else {
      let l = freeLarge.get(r.size);
      if (!l) freeLarge.set(r.size, l = []);
      l.push(r);
    }
    return;
  }
  live -= r.size;
  load().ario_mem_free(r.ptr);
}

/** Frees every idle region (a reactor closed); regions in use stay. */
export function ioTrim(): void {
  const lib = load();
  const drain = (l: IoRegion[]) => {
    for (const r of l) {
      live -= r.size;
      lib.ario_mem_free(r.ptr);
    }
    l.length = 0;
  };
  free.forEach(drain);
  freeLarge.forEach(drain);
  freeLarge.clear();
  idle = 0;
}

/** Bytes of C-owned I/O memory: `live` allocated, of which `idle` wait for reuse. */
export function ioStats(): { live: number; idle: number } {
  return { live, idle };
}

/** Views up to this size are copied even on a SharedArrayBuffer: cheaper than asking. */
const IN_PLACE_MIN = 4096;

/**
 * Whether C may use `buf`'s memory in place: a view of more than 4 KiB on a
 * SharedArrayBuffer, which is never detached or shrunk (smaller ones are
 * copied: the copy costs less than looking at `buf.buffer`).
 */
export function inPlace(buf: Uint8Array): boolean {
  return buf.length > IN_PLACE_MIN && buf.buffer instanceof SharedArrayBuffer;
}

/** Whether `buf`'s ArrayBuffer is detached. */
export function isDetached(buf: Uint8Array): boolean {
  return (buf.buffer as ArrayBuffer).detached === true;
}

/** Below this many bytes a loop copies faster than `set` (which needs a subarray). */
const SMALL = 64;

/** A region holding a copy of the first `n` bytes of `buf` (a write's bytes as they are now). */
export function ioCopyIn(buf: Uint8Array, n: number = buf.length): IoRegion {
  const r = ioAcquire(n);
  const v = r.view;
  if (n <= SMALL) { for (let i = 0; i < n; i++) v[i] = buf[i]; }
  else v.set(n === buf.length ? buf : buf.subarray(0, n));
  return r;
}

/**
 * A read's result did not fit: `into` was detached, or shrunk below the
 * `received.length` bytes that arrived. No byte was written to it.
 */
export interface BufferLostError extends TypeError {
  /** The bytes that arrived (a copy in ordinary JS memory). */
  received: Uint8Array;
}

/**
 * Copies the first `n` bytes of `r` into `into`; if `into` can no longer
 * hold them, returns the error to reject with (carrying a copy of them).
 */
export function ioCopyOut(
  r: IoRegion,
  n: number,
  into: Uint8Array,
  what: string,
  kept: string,
): BufferLostError | undefined {
  if (n <= 0) return undefined;
  if (into.length >= n) {
    const v = r.view;
    if (n <= SMALL) { for (let i = 0; i < n; i++) into[i] = v[i]; }
    else into.set(n === r.size ? v : v.subarray(0, n));
    return undefined;
  }
  const state = isDetached(into) ? "was detached" : `shrank to ${into.length} bytes`;
  const e = new TypeError(
    `Cannot ${what}: the buffer ${state} while the op was in flight; the ${n} bytes received ${kept}`,
  ) as BufferLostError;
  e.received = r.view.slice(0, n);
  return e;
}

/**
 * Bytes reads received while their buffer was detached or shrank (the
 * `received` of a BufferLostError): the next reads are served from here,
 * in order, before C is asked again.
 */
export class LostBytes {
  readonly #q: { bytes: Uint8Array; addr?: Addr | AnyAddr }[] = [];

  /** How many reads' worth are kept. */
  get length(): number {
    return this.#q.length;
  }

  /** Keeps what a read received. */
  push(bytes: Uint8Array): void {
    this.#q.push({ bytes });
  }

  /** Takes the oldest bytes kept, whole. */
  shift(): Uint8Array | undefined {
    return this.#q.shift()?.bytes;
  }

  /** Records the sender of kept datagram bytes. */
  setSender(bytes: Uint8Array, addr: Addr | AnyAddr): void {
    const e = this.#q.find((k) => k.bytes === bytes);
    if (e) e.addr = addr;
  }

  /**
   * Serves one read into `buf` (a `peek` leaves the bytes); a datagram
   * (`datagrams`) is cut to `buf`, a stream keeps the rest for the next read.
   */
  take(buf: Uint8Array, peek: boolean, datagrams: boolean): { n: number; addr?: Addr | AnyAddr } {
    const head = this.#q[0];
    const n = Math.min(buf.length, head.bytes.length);
    buf.set(n === head.bytes.length ? head.bytes : head.bytes.subarray(0, n));
    if (!peek) {
      if (n < head.bytes.length && !datagrams) head.bytes = head.bytes.subarray(n);
      else this.#q.shift();
    }
    return { n, addr: head.addr };
  }
}

/** Reads a little-endian u32 at byte `at` of `v`. */
export function getU32(v: Uint8Array, at: number): number {
  return (v[at] | (v[at + 1] << 8) | (v[at + 2] << 16) | (v[at + 3] << 24)) >>> 0;
}

/** Writes a little-endian u32 at byte `at` of `v`. */
export function setU32(v: Uint8Array, at: number, x: number): void {
  v[at] = x & 0xff;
  v[at + 1] = (x >>> 8) & 0xff;
  v[at + 2] = (x >>> 16) & 0xff;
  v[at + 3] = x >>> 24;
}
