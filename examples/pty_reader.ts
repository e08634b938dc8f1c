/**
 * Reads lines from a pty or serial device path (a USB serial adapter, one
 * end of `socat pty,raw pty,raw`) and prints each one as "line: ...".
 * The device is opened with libc's open(2) through Deno FFI (the ario ABI
 * has no open of its own) and wrapped with `Async.from`, which makes it
 * non-blocking and checks the reactor can poll it.
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/pty_reader.ts /dev/ttyUSB0
 *
 * Flags: --count N (exit after N lines), --timeout ms (exit with status 3
 * when no line comes for that long). Exits at end of input (EOF, or EIO
 * when the other side of a pty closes).
 */
import { Cli } from "./_cli.ts";
import { Async } from "../mod.ts";

const cli = new Cli(
  "pty_reader",
  `
usage: pty_reader DEVICE [--count N] [--timeout ms]

  DEVICE        a pty or serial device path (/dev/ttyUSB0, /dev/pts/3)
  --count N     exit after N lines
  --timeout ms  exit with status 3 when no line comes for that long
`,
  { count: { type: "string" }, timeout: { type: "string" } },
  Deno.args,
  true,
);
if (cli.positionals.length !== 1) cli.fail("expected one DEVICE path");
const path = cli.positionals[0];
const count = cli.number("count", { min: 1 });
const timeout = cli.number("timeout", { min: 1, fraction: true });

const O_RDWR = 2, O_NOCTTY = 0o400; // Linux values
const libc = Deno.dlopen(Deno.build.os === "darwin" ? "libSystem.dylib" : "libc.so.6", {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
}).symbols;
const fd = libc.open(new TextEncoder().encode(path + "\0"), O_RDWR | O_NOCTTY, 0);
if (fd < 0) {
  console.error(`Cannot open ${path}: missing, or not permitted`);
  Deno.exit(1);
}
await using dev = await Async.from(fd);

const dec = new TextDecoder();
const buf = new Uint8Array(4096);
let pending = "";
let left = count ?? Infinity;
while (left > 0) {
  let n: number | null;
  try {
    n = await dev.read(buf, {
      signal: timeout === undefined ? undefined : AbortSignal.timeout(timeout),
    });
  } catch (e) {
    if ((e as Error).name === "TimeoutError") {
      console.error(`no line for ${timeout} ms`);
      Deno.exit(3);
    }
    if ((e as { code?: string }).code === "EIO") break; // the pty's other side closed
    throw e;
  }
  if (n === null) break;
  pending += dec.decode(buf.subarray(0, n), { stream: true });
  let nl;
  while (left > 0 && (nl = pending.search(/\r?\n/)) >= 0) {
    console.log(`line: ${pending.slice(0, nl)}`);
    pending = pending.slice(pending[nl] === "\r" ? nl + 2 : nl + 1);
    left--;
  }
}
if (pending && left > 0) console.log(`line: ${pending}`);
