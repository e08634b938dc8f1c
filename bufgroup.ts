/**
 * Provided buffers: the buffer groups a reactor's RECV_MULTI ops share
 * (`ario_buffers_*` in ario.h, io_uring's provided-buffer rings). One group
 * per buffer size, registered on first use and kept until the reactor
 * closes. A chunk is copied out of its buffer as its completion is
 * dispatched and the buffer is given back at once, so the group only needs
 * to cover what arrives between two reaps; when it runs dry a RECV_MULTI
 * ends with ENOBUFS, its data waits in the socket, and it is submitted
 * again. The ring and the buffers are C-owned regions (iomem.ts), freed
 * only after the loop is gone.
 *
 * @module
 */
import { BUF, BUFFER_GROUPS, CQE_BUFFER_SHIFT } from "./ffi/layout.ts";
import { load } from "./ffi/load.ts";
import { errnoError } from "./errors.ts";
import { ioAcquire, type IoRegion, ioRelease } from "./iomem.ts";
import type { Reactor } from "./reactor.ts";

/** Buffers in each group. */
const COUNT = 64;
/** Largest buffer a group takes (a chunk is at most this long). */
export const CHUNK_MAX = 1 << 20;

/** @internal One registered group of `COUNT` buffers of `size` bytes. */
export class BufferGroup {
  readonly #loop: Deno.PointerObject;
  readonly #ring: IoRegion;
  readonly #bufs: IoRegion;

  constructor(loop: Deno.PointerObject, readonly id: number, readonly size: number) {
    this.#loop = loop;
    // 4 KiB at least: a region that large is page-aligned, as the kernel maps the ring
    this.#ring = ioAcquire(Math.max(4096, COUNT * BUF.size));
    try {
      this.#bufs = ioAcquire(COUNT * size);
    } catch (e) {
      ioRelease(this.#ring);
      throw e;
    }
    const rc = load().ario_buffers_register(loop, id, this.#ring.ptr, COUNT);
    if (rc < 0) {
      this.free();
      throw errnoError(rc, "buffers_register", "Cannot register provided buffers");
    }
    for (let bid = 0; bid < COUNT; bid++) this.#give(bid);
  }

  /** Copies out the chunk a completion names (`res` bytes) and gives its buffer back. */
  take(res: number, cqeFlags: number): Uint8Array<ArrayBuffer> {
    const bid = cqeFlags >>> CQE_BUFFER_SHIFT;
    const at = bid * this.size;
    const chunk = this.#bufs.view.slice(at, at + res);
    this.#give(bid);
    return chunk;
  }

  #give(bid: number): void {
    const rc = load().ario_buffers_give(
      this.#loop,
      this.id,
      BigInt(this.#bufs.addr + bid * this.size),
      this.size,
      bid,
    );
    if (rc < 0) throw errnoError(rc, "buffers_give", "Cannot give a provided buffer back");
  }

  /** Returns the memory (the loop is gone, or never held it). */
  free(): void {
    ioRelease(this.#ring);
    ioRelease(this.#bufs);
  }
}

const groups = new WeakMap<Reactor, Map<number, BufferGroup>>();

/** @internal The group of `size`-byte buffers on reactor `r`, registered on first use. */
export function bufferGroup(r: Reactor, size: number): BufferGroup {
  if (!Number.isInteger(size) || size < 1 || size > CHUNK_MAX) {
    throw new RangeError(`Invalid size: ${size} (expected an integer 1..${CHUNK_MAX})`);
  }
  let m = groups.get(r);
  if (!m) groups.set(r, m = new Map());
  let g = m.get(size);
  if (!g) {
    if (m.size >= BUFFER_GROUPS) {
      throw new RangeError(
        `Invalid size: ${size} (a reactor has ${BUFFER_GROUPS} buffer sizes at most: ${[
          ...m.keys(),
        ]})`,
      );
    }
    m.set(size, g = new BufferGroup(r.unsafeLoop, m.size, size));
  }
  return g;
}

/** @internal Frees reactor `r`'s groups once its loop is gone. */
export function freeBufferGroups(r: Reactor): void {
  for (const g of groups.get(r)?.values() ?? []) g.free();
  groups.delete(r);
}
