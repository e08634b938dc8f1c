// Shared by the socket-class tests (async, tcp, udp, unix): libc for what
// the ario ABI leaves to the user, leak checks over /proc/self/fd, and
// connected pairs.
import assert from "node:assert/strict";
import { type Async, TcpListener, TcpStream } from "../mod.ts";
import { str, text } from "./_helpers.ts";

export type Coded = Error & { code: string; op: string };
export const code = (c: string) => (e: unknown) => (e as Coded).code === c;
export const linux = Deno.build.os === "linux";

/** libc for what the ario ABI leaves to the user: open, ptys, eventfd. */
export const libc = linux
  ? Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
    posix_openpt: { parameters: ["i32"], result: "i32" },
    grantpt: { parameters: ["i32"], result: "i32" },
    unlockpt: { parameters: ["i32"], result: "i32" },
    ptsname_r: { parameters: ["i32", "buffer", "usize"], result: "i32" },
    eventfd: { parameters: ["u32", "i32"], result: "i32" },
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  }).symbols
  : undefined;
export const O_RDWR = 2, O_NOCTTY = 0o400, O_RDONLY = 0;

export function openFd(path: string, flags: number): number {
  const fd = libc!.open(text(path + "\0"), flags, 0);
  if (fd < 0) throw new Error(`open ${path} failed`);
  return fd;
}

export function openPty(): { master: number; slave: number } {
  const master = libc!.posix_openpt(O_RDWR | O_NOCTTY);
  assert.ok(master >= 0 && libc!.grantpt(master) === 0 && libc!.unlockpt(master) === 0);
  const name = new Uint8Array(128);
  assert.equal(libc!.ptsname_r(master, name, 128n), 0);
  const path = str(name.subarray(0, name.indexOf(0)));
  return { master, slave: openFd(path, O_RDWR | O_NOCTTY) };
}

// Leak checks look at this process's fd table (/proc/self/fd). Other test
// files may run in the same process (--parallel), so they look only at the
// sockets a test made: by inode, or by the port they connect to.

export function ourLinks(): Set<string> {
  const out = new Set<string>();
  if (!linux) return out;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    try {
      out.add(Deno.readLinkSync(`/proc/self/fd/${e.name}`));
    } catch { /* closed meanwhile */ }
  }
  return out;
}

/** The "socket:[inode]" links of these objects' fds. */
export function linksOf(...objs: { fd: number }[]): string[] {
  return linux ? objs.map((o) => Deno.readLinkSync(`/proc/self/fd/${o.fd}`)) : [];
}

/** How many of our fds are TCP sockets whose peer port is `port`. */
export function socketsTo(port: number): number {
  if (!linux) return 0;
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of Deno.readTextFileSync(f).split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[2].endsWith(`:${hex}`)) inodes.add(`socket:[${cols[9]}]`);
    }
  }
  return [...ourLinks()].filter((l) => inodes.has(l)).length;
}

/**
 * How many of our fds are TCP sockets with `port` at either end (a listener's, its accepted
 * connections' and its clients'): a leak check other test modules running in this process
 * (`deno test --parallel`) cannot disturb.
 */
export function socketsOn(port: number): number {
  if (!linux) return 0;
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const inodes = new Set<string>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of Deno.readTextFileSync(f).split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && (cols[1].endsWith(hex) || cols[2].endsWith(hex))) {
        inodes.add(`socket:[${cols[9]}]`);
      }
    }
  }
  return [...ourLinks()].filter((l) => inodes.has(l)).length;
}

/** Waits (up to 1 s) until none of `links` is open in this process. */
export async function assertClosed(links: string[]): Promise<void> {
  const open = () => {
    const now = ourLinks();
    return links.filter((l) => now.has(l));
  };
  for (let i = 0; i < 100 && open().length; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(open(), [], "every socket of the test is closed");
}

export async function tcpStreams(
  hostname = "127.0.0.1",
): Promise<[TcpStream, TcpStream, TcpListener]> {
  const l = TcpListener.bind({ hostname, port: 0 });
  const accepted = l.accept();
  const c = await TcpStream.connect({ hostname, port: l.localAddr.port });
  return [c, await accepted, l];
}

export async function readN(s: Async, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await s.read(out.subarray(got));
    if (k === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}
