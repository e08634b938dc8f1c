/**
 * Errors of failed ops, and the platform's named constants. C returns
 * -errno; names come from C's one errno table, so they are right on every
 * platform.
 *
 * @module
 */
import { load } from "./ffi/load.ts";

/** Platform values of named constants, from C (`ario_constant`). */
export const constants: Record<string, number> = new Proxy({}, {
  get(cache: Record<string, number>, name: string) {
    if (name in cache) return cache[name];
    const out = new BigInt64Array(1);
    const rc = load().ario_constant(new TextEncoder().encode(name + "\0"), out);
    const value = rc === 0 ? Number(out[0]) : undefined;
    if (value !== undefined) cache[name] = value;
    return value;
  },
});

/** Name of an errno value ("ECONNREFUSED"). */
export function errnoName(errno: number): string {
  const p = load().ario_errno_name(Math.abs(errno));
  return p ? Deno.UnsafePointerView.getCString(p) : "EUNKNOWN";
}

const errorClasses: Record<string, new (message?: string) => Error> = {
  ECONNREFUSED: Deno.errors.ConnectionRefused,
  ECONNRESET: Deno.errors.ConnectionReset,
  ECONNABORTED: Deno.errors.ConnectionAborted,
  ENOTCONN: Deno.errors.NotConnected,
  EADDRINUSE: Deno.errors.AddrInUse,
  EADDRNOTAVAIL: Deno.errors.AddrNotAvailable,
  EPIPE: Deno.errors.BrokenPipe,
  EEXIST: Deno.errors.AlreadyExists,
  ENOENT: Deno.errors.NotFound,
  EACCES: Deno.errors.PermissionDenied,
  EPERM: Deno.errors.PermissionDenied,
  ETIMEDOUT: Deno.errors.TimedOut,
  ETIME: Deno.errors.TimedOut,
  EINTR: Deno.errors.Interrupted,
  EBADF: Deno.errors.BadResource,
  EBUSY: Deno.errors.Busy,
  ENOTSUP: Deno.errors.NotSupported,
  EOPNOTSUPP: Deno.errors.NotSupported,
  ENETUNREACH: Deno.errors.NetworkUnreachable,
  EISDIR: Deno.errors.IsADirectory,
  ENOTDIR: Deno.errors.NotADirectory,
  ELOOP: Deno.errors.FilesystemLoop,
  EAGAIN: Deno.errors.WouldBlock,
};

/** What every error from a failed op carries. */
export interface IoErrorFields {
  /** The errno name, e.g. "ECONNREFUSED". */
  code: string;
  /** The errno value on this platform (positive). */
  errno: number;
  /** The op that failed, e.g. "connect". */
  op: string;
}

/** An error from a failed op: a `Deno.errors` class where one fits. */
export type IoError = Error & IoErrorFields;

/**
 * Builds the error for a negative result: the matching `Deno.errors` class
 * when one fits, an `Error` otherwise, with `code`, `errno` and `op`.
 *
 * @example
 * ```ts
 * import { errnoError } from "@ario/ario";
 * const e = errnoError(-111, "connect");
 * console.log(e.code, e instanceof Deno.errors.ConnectionRefused); // on Linux: "ECONNREFUSED" true
 * ```
 */
export function errnoError(res: number, op: string, context?: string): IoError {
  return opError(res, op, context ?? `Cannot ${op}`);
}

/**
 * The one builder of op errors: `res` (an errno of either sign) failed
 * `op` while doing `context` ("Cannot connect to 127.0.0.1:80"). The
 * message is "<context>: CODE (op)", or with `why` "<context>: <why>
 * (CODE)"; the class is the `Deno.errors` one of the code unless `Class`.
 */
function opError(
  res: number,
  op: string,
  context: string,
  why?: string,
  Class?: new (message?: string) => Error,
): IoError {
  const errno = Math.abs(res);
  const code = errnoName(errno);
  const Ctor = Class ?? errorClasses[code] ?? Error;
  const e = new Ctor(
    why ? `${context}: ${why} (${code})` : `${context}: ${code} (${op})`,
  ) as IoError;
  e.code = code;
  e.errno = errno;
  e.op = op;
  return e;
}

/**
 * The error of an op on a closed descriptor: BadResource, code
 * EBADF when it was closed before the call, ECANCELED when it was closed
 * while the op waited.
 */
export function closedError(what: string, op: string, inFlight: boolean): IoError {
  return inFlight
    ? opError(
      constants.ECANCELED,
      op,
      `Cannot ${what}`,
      "the descriptor was closed while waiting",
      Deno.errors.BadResource,
    )
    : opError(constants.EBADF, op, `Cannot ${what}`, "the descriptor is closed");
}

/** The error of an op that gave up after `ms`: TimedOut, code ETIMEDOUT. */
export function timedOutError(context: string, op: string, ms: number): IoError {
  return opError(constants.ETIMEDOUT, op, context, `timed out after ${ms} ms`);
}

/** How an op of the socket classes is named in its errors: "Cannot <what>: CODE (<op>)". */
export interface IoCall {
  readonly op: string;
  readonly what: string;
  /** A result of 0 is the end of the stream: resolves null. */
  readonly eofNull?: boolean;
}
export const READ_CALL: IoCall = { op: "read", what: "read", eofNull: true };
export const RECV_CALL: IoCall = { op: "recv", what: "read", eofNull: true };
export const WRITE_CALL: IoCall = { op: "write", what: "write" };
export const SEND_CALL: IoCall = { op: "send", what: "write" };
export const POLL_CALL: IoCall = { op: "poll", what: "wait for readiness" };
export const SHUTDOWN_CALL: IoCall = { op: "shutdown", what: "shut down" };
export const ACCEPT_CALL: IoCall = { op: "accept", what: "accept" };
export const RECVFROM_CALL: IoCall = { op: "recvfrom", what: "receive" };
