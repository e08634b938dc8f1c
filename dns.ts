/**
 * Host names to addresses for connect, bind and sendTo, through the
 * system's resolver (`getaddrinfo`: the hosts file, then DNS, as
 * nsswitch.conf says), as `Deno.connect` resolves. Lookups from async calls
 * run on Deno's blocking thread pool, never on the JS thread, and honour a
 * timeout and an `AbortSignal`; the synchronous binds (`TcpListener.bind`,
 * `UdpSocket.bind`) resolve in place, as `Deno.listen` does. It needs only
 * `--allow-ffi`, like every socket of this library: Deno's `--allow-net`
 * does not see FFI sockets.
 *
 * @example Resolve a name from the hosts file
 * ```ts
 * import { resolveHost } from "@ario/ario";
 * const addrs = await resolveHost("localhost", { timeout: 2000 });
 * console.log(addrs.includes("127.0.0.1") || addrs.includes("::1")); // true
 * ```
 *
 * @module
 */
import { load } from "./ffi/load.ts";
import { decodeAddr } from "./addr.ts";
import { constants, errnoError, timedOutError } from "./errors.ts";

/** Options of {@linkcode resolveHost}. */
export interface ResolveOptions {
  /** Gives up after this many milliseconds (TimedOut). */
  timeout?: number;
  /** Gives up when aborted (rejects with its reason). */
  signal?: AbortSignal;
  /** Only IPv4 (4) or only IPv6 (6) addresses; default both. */
  family?: 4 | 6;
}

const RECORD = 32; // ARIO_RESOLVE_RECORD
const MAX_ADDRS = 32;
const enc = new TextEncoder();

/** Whether a hostname is already a numeric IPv4 or IPv6 address (no lookup needed). */
export function isNumericHost(hostname: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.includes(":");
}

function familyArg(f: 4 | 6 | undefined): number {
  if (f === undefined) return 0;
  if (f === 4) return constants.AF_INET;
  if (f === 6) return constants.AF_INET6;
  throw new RangeError(`Cannot resolve: family must be 4 or 6, got ${f}`);
}

function checkName(hostname: string): Uint8Array {
  if (typeof hostname !== "string" || hostname.length === 0 || hostname.length > 253) {
    throw new TypeError(
      `Cannot resolve: hostname must be a non-empty string of at most 253 characters`,
    );
  }
  if (hostname.includes("\0")) throw new TypeError("Cannot resolve: hostname contains a NUL byte");
  return enc.encode(hostname + "\0");
}

function addresses(out: Uint8Array, n: number): string[] {
  const list: string[] = [];
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let k = 0; k < n; k++) {
    const len = view.getUint32(k * RECORD, true);
    const a = decodeAddr(out.subarray(k * RECORD + 4, k * RECORD + 4 + len), len, "tcp");
    const host = (a as Deno.NetAddr).hostname;
    if (!list.includes(host)) list.push(host);
  }
  return list;
}

function failed(rc: number, hostname: string): Error {
  return errnoError(
    rc,
    "getaddrinfo",
    rc === -constants.ENOENT
      ? `Cannot resolve "${hostname}": no such host`
      : `Cannot resolve "${hostname}"`,
  );
}

/**
 * Resolves `hostname` on the JS thread (blocking, like `Deno.listen`):
 * numeric addresses, in the resolver's order. Throws `NotFound` for an
 * unknown name.
 *
 * @example
 * ```ts
 * import { resolveHostSync } from "@ario/ario";
 * console.log(resolveHostSync("127.0.0.1")); // [ "127.0.0.1" ]
 * ```
 */
export function resolveHostSync(hostname: string, options: { family?: 4 | 6 } = {}): string[] {
  const name = checkName(hostname);
  if (isNumericHost(hostname)) return [hostname];
  const out = new Uint8Array(RECORD * MAX_ADDRS);
  const n = load().ario_resolve(name, familyArg(options.family), out, out.length);
  if (n < 0) throw failed(n, hostname);
  if (n === 0) throw failed(-constants.ENOENT, hostname);
  return addresses(out, n);
}

/**
 * Resolves `hostname` off the JS thread: numeric addresses, in the
 * resolver's order. Rejects with `NotFound` for an unknown name,
 * `TimedOut` after `timeout` ms, or `signal.reason`. A lookup given up on
 * finishes in the background and is discarded.
 *
 * @example
 * ```ts
 * import { resolveHost } from "@ario/ario";
 * console.log(await resolveHost("::1")); // [ "::1" ]
 * ```
 */
export function resolveHost(hostname: string, options: ResolveOptions = {}): Promise<string[]> {
  let name: Uint8Array, family: number;
  try {
    name = checkName(hostname);
    family = familyArg(options.family);
    if (options.timeout !== undefined && !(options.timeout >= 0)) {
      throw new RangeError(`Cannot resolve: timeout must be a number >= 0, got ${options.timeout}`);
    }
  } catch (e) {
    return Promise.reject(e);
  }
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  if (isNumericHost(hostname)) return Promise.resolve([hostname]);
  const lib = load();
  // C memory: the lookup may outlive this isolate (a terminated Worker), so V8 must not own it
  const cap = RECORD * MAX_ADDRS;
  const mem = lib.ario_mem_alloc(BigInt(name.length + cap));
  if (mem === null) return Promise.reject(new RangeError("Cannot resolve: out of memory"));
  const bytes = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(mem, name.length + cap));
  bytes.set(name);
  const outPtr = Deno.UnsafePointer.offset(mem, name.length)!;
  const lookup = lib.ario_resolve_async(mem, family, outPtr, cap).then((n) => {
    try {
      if (n < 0) throw failed(n, hostname);
      if (n === 0) throw failed(-constants.ENOENT, hostname);
      return addresses(bytes.subarray(name.length), n);
    } finally {
      lib.ario_mem_free(mem);
    }
  });
  const { signal, timeout } = options;
  if (!signal && timeout === undefined) return lookup;
  return new Promise<string[]>((resolve, reject) => {
    let timer: number | undefined;
    const stop = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      stop();
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        stop();
        reject(timedOutError(`Cannot resolve "${hostname}"`, "getaddrinfo", timeout));
      }, timeout) as unknown as number;
    }
    lookup.then((v) => {
      stop();
      resolve(v);
    }, (e) => {
      stop();
      reject(e);
    });
  });
}
