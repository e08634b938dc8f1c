/**
 * Web Streams over an object's reads and writes, as `Deno.Conn` has them:
 * a byte stream (BYOB readers work) and a writable stream whose chunks are
 * each written in full before the next is taken (backpressure). The object
 * decides what ending each side means (shutdown, close).
 *
 * @module
 */

/** Chunks a byte stream reads when the reader brings no buffer of its own. */
const MAX_CHUNK = 64 * 1024;

/**
 * A byte stream pulling from `read` (`null`: end of stream). `ended` runs
 * once the stream ends or fails; `cancel` when the reader cancels it.
 */
export function byteReadable(
  read: (buf: Uint8Array) => Promise<number | null>,
  ended: () => void,
  cancel: () => void,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  // a byte stream's chunks are views of ordinary ArrayBuffers (Deno.Conn's type)
  return new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: MAX_CHUNK,
    pull: async (c) => {
      const req = c.byobRequest!;
      const v = req.view!;
      try {
        const n = await read(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        if (n === null) {
          c.close();
          req.respond(0);
          ended();
        } else {
          req.respond(n);
        }
      } catch (e) {
        c.error(e);
        ended();
      }
    },
    cancel,
  }) as ReadableStream<Uint8Array<ArrayBuffer>>;
}

/** A writable stream writing each chunk in full through `writeAll`; `close` and `abort` end it. */
export function chunkWritable(
  writeAll: (chunk: Uint8Array, signal: AbortSignal) => Promise<void>,
  close: () => void,
  abort: () => void,
): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk, c) => writeAll(chunk, c.signal),
    close,
    abort,
  });
}
