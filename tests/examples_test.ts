// The network-tool examples, each run as its own `deno run` process and
// driven by real Debian clients (socat, nc, curl) on 127.0.0.1 only. A test
// whose client is not installed is ignored (scripts/setup-system.sh
// installs them). Every process is bounded in time.
import assert from "node:assert/strict";
import { constants, TcpListener } from "../mod.ts";
import { fileURLToPath } from "node:url";

const DENO = Deno.execPath();
const RUN = ["run", "--allow-ffi", "--allow-env", "--allow-read"];
const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
const enc = new TextEncoder();
const linux = Deno.build.os === "linux";

function has(tool: string): boolean {
  try {
    return new Deno.Command("sh", {
      args: ["-c", `command -v ${tool}`],
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
}
const tools = { socat: has("socat"), nc: has("nc"), curl: has("curl"), ping: has("ping") };

/** Reads a child's stream as text, with waits for a pattern. */
class Lines {
  text = "";
  #done: Promise<void>;
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#done = (async () => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) this.text += chunk;
    })().catch(() => {});
  }
  async until(re: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = this.text.match(re);
      if (m) return m;
      if (Date.now() > end) {
        throw new Error(`timed out waiting for ${re}; got ${JSON.stringify(this.text)}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  done(): Promise<void> {
    return this.#done;
  }
}

interface Proc {
  child: Deno.ChildProcess;
  out: Lines;
  err: Lines;
  stop(): Promise<Deno.CommandStatus>;
}

function start(cmd: string, args: string[], stdin: "piped" | "null" = "null"): Proc {
  const child = new Deno.Command(cmd, { args, stdin, stdout: "piped", stderr: "piped" }).spawn();
  const out = new Lines(child.stdout), err = new Lines(child.stderr);
  return {
    child,
    out,
    err,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const s = await child.status;
      await Promise.all([out.done(), err.done()]);
      return s;
    },
  };
}

const startExample = (name: string, args: string[], stdin: "piped" | "null" = "null") =>
  start(DENO, [...RUN, example(name), ...args], stdin);

/** Runs a command to completion with input, within `ms`. */
async function run(
  cmd: string,
  args: string[],
  input = "",
  ms = 10_000,
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(cmd, { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  // Feed stdin while the output is drained: a client echoing a large input
  // blocks on a full stdout pipe otherwise, and nothing reads it until the
  // input is written. A child that exits early makes the write fail; its
  // status and output say why.
  const fed = (async () => {
    const w = child.stdin.getWriter();
    await w.write(enc.encode(input));
    await w.close();
  })().catch(() => {});
  const o = await child.output();
  await fed;
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...opts,
  name: "echo_server.ts echoes to socat and nc, with the read loop and with streams",
  ignore: !tools.socat || !tools.nc,
  fn: async () => {
    for (const mode of [[], ["--streams"]]) {
      const srv = startExample("echo_server.ts", mode);
      try {
        const port = (await srv.out.until(/listening on 127\.0\.0\.1:(\d+)/))[1];
        const a = await run(
          "socat",
          ["-t", "2", "-", `TCP:127.0.0.1:${port}`],
          "hello via socat\n",
        );
        assert.equal(a.out, "hello via socat\n");
        const b = await run("nc", ["-N", "127.0.0.1", port], "hello via nc\n");
        assert.equal(b.out, "hello via nc\n");
        const big = "x".repeat(300_000) + "\n";
        const c = await run("socat", ["-t", "2", "-", `TCP:127.0.0.1:${port}`], big);
        assert.equal(c.out.length, big.length);
      } finally {
        await srv.stop();
      }
    }
  },
});

Deno.test({
  ...opts,
  name: "echo_workers.ts: 2 Workers echo to socat, share the connections, stop on SIGTERM",
  ignore: !tools.socat,
  fn: async () => {
    const srv = startExample("echo_workers.ts", ["--workers", "2"]);
    let stopped = false;
    try {
      const port = (await srv.out.until(/listening on 127\.0\.0\.1:(\d+) \(2 workers\)/))[1];
      const replies = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => run("socat", ["-t", "2", "-", `TCP:127.0.0.1:${port}`], `hello ${i}\n`),
        ),
      );
      replies.forEach((r, i) => assert.equal(r.out, `hello ${i}\n`));
      const status = await srv.stop();
      stopped = true;
      assert.equal(status.code, 0, srv.err.text);
      const served = [...srv.out.text.matchAll(/worker (\d): (\d+) connections/g)];
      assert.deepEqual(served.map((m) => m[1]).sort(), ["0", "1"], srv.out.text);
      assert.equal(served.reduce((n, m) => n + Number(m[2]), 0), 20, srv.out.text);
    } finally {
      if (!stopped) await srv.stop();
    }
  },
});

Deno.test({
  ...opts,
  name: "port_scan.ts finds exactly the open 127.0.0.1 ports in a 200-port range",
  fn: async () => {
    let base = 0;
    const listeners: Deno.Listener[] = [];
    for (let tries = 0; tries < 20 && listeners.length < 3; tries++) {
      listeners.forEach((l) => l.close());
      listeners.length = 0;
      base = 20_000 + Math.floor(Math.random() * 30_000);
      try {
        for (const off of [3, 17, 150]) {
          listeners.push(Deno.listen({ hostname: "127.0.0.1", port: base + off }));
        }
      } catch { /* taken: try another range */ }
    }
    assert.equal(listeners.length, 3);
    const r = await run(
      DENO,
      [
        ...RUN,
        example("port_scan.ts"),
        "--ports",
        `${base}-${base + 199}`,
        "--concurrency",
        "200",
        "--timeout",
        "1000",
        "--json",
      ],
      "",
      20_000,
    );
    listeners.forEach((l) => l.close());
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), [base + 3, base + 17, base + 150]);
  },
});

Deno.test({
  ...opts,
  name: "netcat.ts -l talks both ways with nc; connect mode talks with a socat listener",
  ignore: !tools.socat || !tools.nc,
  fn: async () => {
    // listen mode, nc connects
    const nc = startExample("netcat.ts", ["-l", "127.0.0.1", "0"], "piped");
    try {
      const port = (await nc.err.until(/listening on 127\.0\.0\.1:(\d+)/))[1];
      const w = nc.child.stdin.getWriter();
      await w.write(enc.encode("from-ario\n"));
      await w.close();
      const peer = await run("nc", ["-N", "127.0.0.1", port], "from-nc\n");
      await nc.out.until(/from-nc\n/);
      assert.equal(peer.out, "from-ario\n");
      assert.equal((await nc.child.status).code, 0);
    } finally {
      await nc.stop();
    }
    // connect mode, socat listens
    const srv = start("socat", ["-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1", "STDIO"], "piped");
    try {
      const port = (await srv.err.until(/listening on .*127\.0\.0\.1:(\d+)/))[1];
      const sw = srv.child.stdin.getWriter();
      await sw.write(enc.encode("from-socat\n"));
      const r = await run(
        DENO,
        [...RUN, example("netcat.ts"), "127.0.0.1", port],
        "from-ario\n",
        10_000,
      );
      await srv.out.until(/from-ario\n/);
      assert.equal(r.out, "from-socat\n", r.err);
      await sw.close().catch(() => {});
    } finally {
      await srv.stop();
    }
  },
});

Deno.test({
  ...opts,
  name: "udp_ping.ts: client and server report every reply; socat gets its echo",
  fn: async () => {
    const srv = startExample("udp_ping.ts", ["--server"]);
    try {
      const port = (await srv.out.until(/listening on 127\.0\.0\.1:(\d+)/))[1];
      const r = await run(DENO, [
        ...RUN,
        example("udp_ping.ts"),
        "--port",
        port,
        "--count",
        "5",
        "--interval",
        "2",
      ]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out.match(/^seq=\d rtt=[\d.]+ ms$/gm)?.length, 5);
      assert.match(
        r.out,
        /5 sent, 5 received, 0% loss, rtt min\/avg\/max\/p50 = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms/,
      );
      if (tools.socat) {
        const s = await run("socat", ["-t", "1", "-", `UDP:127.0.0.1:${port}`], "ping\n");
        assert.equal(s.out, "ping\n");
      }
    } finally {
      await srv.stop();
    }
  },
});

Deno.test({
  ...opts,
  name: "pty_reader.ts reads lines from one end of a socat pty pair",
  ignore: !tools.socat || !linux,
  fn: async () => {
    const pair = start("socat", ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"]);
    try {
      await pair.err.until(/starting data transfer loop/);
      const [a, b] = [...pair.err.text.matchAll(/PTY is (\/dev\/pts\/\d+)/g)].map((m) => m[1]);
      const reader = startExample("pty_reader.ts", [a, "--count", "3", "--timeout", "5000"]);
      // let the reader open its end, then write lines into the other end
      await new Promise((r) => setTimeout(r, 300));
      const dev = await Deno.open(b, { write: true });
      await dev.write(enc.encode("first line\r\nsecond"));
      await new Promise((r) => setTimeout(r, 50));
      await dev.write(enc.encode(" line\nthird line\nnot read\n"));
      dev.close();
      const status = await reader.child.status;
      await reader.stop();
      assert.equal(status.code, 0, reader.err.text);
      assert.equal(reader.out.text, "line: first line\nline: second line\nline: third line\n");
    } finally {
      await pair.stop();
    }
  },
});

Deno.test({
  ...opts,
  name: "http_server.ts serves curl with keep-alive, POST echo and HTTP/1.0 close",
  ignore: !tools.curl,
  fn: async () => {
    const srv = startExample("http_server.ts", []);
    try {
      const url = (await srv.out.until(/listening on (http:\/\/127\.0\.0\.1:\d+\/)/))[1];
      // two requests in one curl run: the second reuses the connection
      const r = await run("curl", ["-sS", "-w", "|%{num_connects}\n", `${url}a`, `${url}b`]);
      assert.equal(r.out, "hello from ario: /a\n|1\nhello from ario: /b\n|0\n", r.err);
      const post = await run("curl", ["-sS", "--data-binary", "@-", `${url}echo`], "posted body");
      assert.equal(post.out, "posted body");
      const old = await run("curl", ["-sS", "-0", "-i", url]);
      assert.match(old.out, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(old.out, /connection: close/);
      const head = await run("curl", ["-sS", "-I", `${url}xyz`]);
      assert.match(head.out, /content-length: 22/);
    } finally {
      await srv.stop();
    }
  },
});

const TOOLS: [string, string[]][] = [
  // each with a bad number
  ["echo_server.ts", ["--port", "abc"]],
  ["echo_workers.ts", ["--workers", "0"]],
  ["http_server.ts", ["--max-body", "1e3x"]],
  ["netcat.ts", ["-w", "soon", "127.0.0.1", "9"]],
  ["port_scan.ts", ["--timeout", "-5"]],
  ["udp_ping.ts", ["--port", "9", "--count", "2.5"]],
  ["pty_reader.ts", ["/dev/null", "--count", "x"]],
  ["proxy.ts", ["--to", "127.0.0.1:9", "--max", "x"]],
  ["ping.ts", ["127.0.0.1", "--count", "x"]],
];

Deno.test({
  ...opts,
  name: "every example: --help prints usage (0); an unknown flag or a bad number is one line (2)",
  fn: async () => {
    await Promise.all(TOOLS.map(async ([name, bad]) => {
      const help = await run(DENO, [...RUN, example(name), "--help"]);
      assert.equal(help.code, 0, `${name}: ${help.err}`);
      assert.match(help.out, /^usage: /, name);
      for (const args of [["--no-such-flag"], bad]) {
        const r = await run(DENO, [...RUN, example(name), ...args]);
        assert.equal(r.code, 2, `${name} ${args.join(" ")}: ${r.out}${r.err}`);
        assert.equal(r.err.trimEnd().split("\n").length, 1, `${name}: ${r.err}`);
        assert.match(r.err, new RegExp(`^${name.slice(0, -3)}: .*\\(see --help\\)\n$`), r.err);
        assert.doesNotMatch(r.err, /^\s+at /m, r.err);
        assert.equal(r.out, "");
      }
    }));
  },
});

Deno.test({
  ...opts,
  name: "udp_ping.ts: nothing listening is 100% loss, not a crash; a missing --port is refused",
  fn: async () => {
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // a port number nobody uses for UDP
    const port = String(probe.addr.port);
    probe.close();
    const r = await run(DENO, [
      ...RUN,
      example("udp_ping.ts"),
      "--port",
      port,
      "--count",
      "3",
      "--interval",
      "1",
      "--timeout",
      "300",
    ]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.match(/^seq=\d (timeout|refused \(nothing listens\))$/gm)?.length, 3, r.out);
    assert.match(r.out, /^3 sent, 0 received, 100% loss$/m);
    const missing = await run(DENO, [...RUN, example("udp_ping.ts"), "--count", "1"]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--port is required/);
  },
});

Deno.test({
  ...opts,
  name: "port_scan.ts --concurrency 0 is an error; netcat.ts with no arguments prints its usage",
  fn: async () => {
    const scan = await run(DENO, [...RUN, example("port_scan.ts"), "--concurrency", "0"]);
    assert.equal(scan.code, 2, scan.out);
    assert.doesNotMatch(scan.out, /open/);
    assert.match(scan.err, /--concurrency must be an integer in 1\.\.65535/);
    const nc = await run(DENO, [...RUN, example("netcat.ts")]);
    assert.equal(nc.code, 2);
    assert.match(nc.err, /^usage: netcat /);
  },
});

Deno.test({
  ...opts,
  ignore: !tools.curl,
  name: "http_server.ts bounds Content-Length (413) and the head (431), then keeps serving (curl)",
  fn: async () => {
    const srv = startExample("http_server.ts", ["--max-body", "1000", "--max-head", "4096"]);
    try {
      const url = (await srv.out.until(/listening on (http:\/\/\S+)/))[1];
      const status = async (...args: string[]) =>
        (await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", ...args]))
          .out;
      assert.equal(
        await status("-X", "POST", "-H", "Content-Length: 99999999999", url),
        "413",
      );
      assert.equal(await status("--data-binary", "x".repeat(1001), url), "413");
      assert.equal(await status("-H", `X-Big: ${"a".repeat(5000)}`, url), "431");
      assert.equal(await status("-H", "Content-Length: 12abc", "-X", "POST", url), "400");
      const ok = await run("curl", ["-s", "-m", "5", "--data-binary", "x".repeat(1000), url]);
      assert.equal(ok.out, "x".repeat(1000));
      assert.doesNotMatch(srv.err.text, /allocation failed|RangeError/);
    } finally {
      await srv.stop();
    }
  },
});

/** 64 MiB that no shifted or reordered copy matches (xorshift32). */
function bigBody(): Uint8Array<ArrayBuffer> {
  const words = new Uint32Array(16 << 20);
  for (let i = 0, x = 0x9e3779b9; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer);
}

async function sha256(b: Uint8Array<ArrayBuffer>): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", b));
  return [...d].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** Open descriptors of a process (Linux): what each is, sorted. */
function fdsOf(pid: number): string[] {
  const fds = [...Deno.readDirSync(`/proc/${pid}/fd`)].map((e) => {
    try {
      return Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`).replace(/\d+/g, "N");
    } catch {
      return "gone";
    }
  });
  return fds.sort();
}

for (const mode of [[], ["--copy"]]) {
  Deno.test({
    ...opts,
    ignore: !tools.curl || !tools.socat || !linux,
    name: `proxy.ts ${mode[0] ?? "(splice)"}: curl through it (64 MiB by hash, 40 at once), ` +
      `half-close via socat, a refused upstream, no fd leaks`,
    fn: async () => {
      const body = bigBody();
      const hash = await sha256(body);
      const ac = new AbortController();
      const web = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        signal: ac.signal,
        onListen() {},
      }, (req) => {
        const path = new URL(req.url).pathname;
        return new Response(path === "/big" ? body : `hello ${path}`);
      });
      // upstream of the half-close check: answers only once its input ended
      const counter = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      (async () => {
        for await (const c of counter) {
          (async () => {
            let n = 0;
            const buf = new Uint8Array(65536);
            for (let r; (r = await c.read(buf)) !== null;) n += r;
            await c.write(enc.encode(`got ${n} bytes\n`));
            c.close();
          })().catch(() => {});
        }
      })().catch(() => {});
      const refused = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const deadPort = refused.addr.port;
      refused.close();
      const px = startExample("proxy.ts", ["--to", `127.0.0.1:${web.addr.port}`, ...mode]);
      const half = startExample("proxy.ts", ["--to", `127.0.0.1:${counter.addr.port}`, ...mode]);
      const dead = startExample("proxy.ts", ["--to", `127.0.0.1:${deadPort}`, ...mode]);
      // upstream that sends 256 KiB and then resets the connection (SO_LINGER 0)
      const resetter = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
      (async () => {
        for await (const c of resetter) {
          (async () => {
            await c.writeAll(new Uint8Array(256 * 1024));
            c.setOption(
              constants.SOL_SOCKET,
              constants.SO_LINGER,
              new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]),
            );
            c.close();
          })().catch(() => {});
        }
      })().catch(() => {});
      const rst = startExample("proxy.ts", [
        "--to",
        `127.0.0.1:${resetter.localAddr.port}`,
        ...mode,
      ]);
      try {
        const port = (await px.out.until(/listening on 127\.0\.0\.1:(\d+)/))[1];
        const url = `http://127.0.0.1:${port}`;
        for (let i = 0; i < 3; i++) { // the runtime opens a few descriptors lazily
          const first = await run("curl", ["-s", "-m", "10", `${url}/warm`]);
          assert.equal(first.out, "hello /warm");
        }
        await new Promise((r) => setTimeout(r, 1000));
        const fds = fdsOf(px.child.pid);

        const big = await run("sh", ["-c", `curl -s -m 60 ${url}/big | sha256sum`], "", 70_000);
        assert.equal(big.out.split(" ")[0], hash, big.err);
        const many = await Promise.all(
          Array.from({ length: 40 }, (_, i) => run("curl", ["-s", "-m", "20", `${url}/${i}`])),
        );
        many.forEach((r, i) => assert.equal(r.out, `hello /${i}`, r.err));

        const hport = (await half.out.until(/listening on 127\.0\.0\.1:(\d+)/))[1];
        const input = "y".repeat(200_000);
        const h = await run("socat", ["-t", "5", "-", `TCP:127.0.0.1:${hport}`], input);
        assert.equal(h.out, `got ${input.length} bytes\n`, h.err);

        const dport = (await dead.out.until(/listening on 127\.0\.0\.1:(\d+)/))[1];
        const t0 = Date.now();
        const d = await run("curl", ["-s", "-m", "10", `http://127.0.0.1:${dport}/`]);
        assert.notEqual(d.code, 0); // an empty reply or a reset, not a hang
        assert.notEqual(d.code, 28, "curl timed out: the client was not closed");
        assert.ok(Date.now() - t0 < 5000);
        await dead.err.until(/connection: .*(ECONNREFUSED|refused)/i);

        // a reset upstream: the client's connection ends too (no hang), nothing leaks
        const rport = Number((await rst.out.until(/listening on 127\.0\.0\.1:(\d+)/))[1]);
        const rfds = fdsOf(rst.child.pid);
        for (let i = 0; i < 3; i++) {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port: rport });
          const buf = new Uint8Array(65536);
          const timer = setTimeout(() => conn.close(), 5000);
          let ended = "eof";
          try {
            while (await conn.read(buf) !== null) { /* drain */ }
          } catch (e) {
            ended = (e as Error).name; // ConnectionReset
          }
          clearTimeout(timer);
          assert.notEqual(ended, "BadResource", "the proxy left the client hanging");
          try {
            conn.close();
          } catch { /* closed by the timer */ }
        }
        for (let t = 0; t < 30 && fdsOf(rst.child.pid).length !== rfds.length; t++) {
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.deepEqual(fdsOf(rst.child.pid), rfds, "descriptors leaked after resets");

        for (let t = 0; t < 30 && fdsOf(px.child.pid).length !== fds.length; t++) {
          await new Promise((r) => setTimeout(r, 100)); // the last closes may still be on their way
        }
        assert.deepEqual(fdsOf(px.child.pid), fds, "descriptors leaked");
        assert.equal(px.err.text, "");
      } finally {
        await Promise.all([px.stop(), half.stop(), dead.stop(), rst.stop()]);
        counter.close();
        resetter.close();
        ac.abort();
        await web.finished;
      }
    },
  });
}
// ping.ts needs a raw socket (CAP_NET_RAW: the tests run as root) or an ICMP
// datagram socket (net.ipv4.ping_group_range); both are tried, the second in
// a network namespace of its own whose range admits us (unshare -n).
const root = linux && Deno.uid() === 0;
const unshare = root && has("unshare") && has("ip");

/** Checks ping.ts's output for `count` replies from `host`; returns the RTTs. */
function checkPing(out: string, host: string, count: number, ttl: boolean): number[] {
  const head = host.includes(":")
    ? `PING ${host} (${host}) 56 data bytes`
    : `PING ${host} (${host}) 56(84) bytes of data.`;
  assert.equal(out.split("\n")[0], head);
  const esc = host.replace(/[.]/g, "\\.");
  const re = new RegExp(
    `^64 bytes from ${esc}: icmp_seq=(\\d+)${ttl ? " ttl=64" : ""} time=([\\d.]+) ms$`,
    "gm",
  );
  const lines = [...out.matchAll(re)];
  assert.deepEqual(lines.map((m) => Number(m[1])), Array.from({ length: count }, (_, i) => i + 1));
  const rtts = lines.map((m) => Number(m[2]));
  for (const t of rtts) assert.ok(t > 0 && t < 1000, `rtt ${t}`);
  assert.match(out, new RegExp(`^--- ${esc} ping statistics ---$`, "m"));
  const sum = out.match(
    new RegExp(
      `^${count} packets transmitted, ${count} received, 0% packet loss, time (\\d+)ms$`,
      "m",
    ),
  );
  assert.ok(sum, out);
  const stats = out.match(/^rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms$/m);
  assert.ok(stats, out);
  const [min, avg, max, mdev] = stats.slice(1).map(Number);
  assert.equal(min, Math.min(...rtts));
  assert.equal(max, Math.max(...rtts));
  assert.ok(min <= avg && avg <= max && mdev >= 0 && mdev <= max - min, stats[0]);
  const mean = rtts.reduce((a, b) => a + b, 0) / count;
  assert.ok(Math.abs(avg - mean) < 0.002 * count, `avg ${avg} vs ${mean}`);
  return rtts;
}

Deno.test({
  ...opts,
  name: "ping.ts: ICMP echo to 127.0.0.1 and ::1 on a raw socket, replies matched and counted",
  ignore: !root,
  fn: async () => {
    for (const host of ["127.0.0.1", "::1"]) {
      const r = await run(DENO, [
        ...RUN,
        example("ping.ts"),
        host,
        "--mode",
        "raw",
        "--count",
        "5",
        "--interval",
        "20",
      ]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.err, "");
      checkPing(r.out, host, 5, !host.includes(":")); // raw IPv4 shows the TTL of the header
    }
  },
});

Deno.test({
  ...opts,
  name: "ping.ts: two pings at once on raw sockets each count only their own replies",
  ignore: !root,
  fn: async () => {
    const args = ["127.0.0.1", "--mode", "raw", "--count", "8", "--interval", "5"];
    const [a, b] = await Promise.all([
      run(DENO, [...RUN, example("ping.ts"), ...args]),
      run(DENO, [...RUN, example("ping.ts"), ...args]),
    ]);
    for (const r of [a, b]) {
      assert.equal(r.code, 0, r.err);
      checkPing(r.out, "127.0.0.1", 8, true); // exactly 8 each, seq 1..8, no duplicates
    }
  },
});

Deno.test({
  ...opts,
  name: "ping.ts: ICMP datagram sockets (ping_group_range) for IPv4 and IPv6, and auto picks them",
  ignore: !unshare,
  fn: async () => {
    const cmd = [DENO, ...RUN, example("ping.ts")].map((a) => `'${a}'`).join(" ");
    const script = [
      "ip link set lo up",
      `echo "0 2147483647" > /proc/sys/net/ipv4/ping_group_range`,
      `${cmd} 127.0.0.1 --mode dgram --count 3 --interval 10`,
      "echo ===",
      `${cmd} ::1 --mode dgram --count 3 --interval 10`,
      "echo ===",
      `${cmd} 127.0.0.1 --count 3 --interval 10`,
      "echo ===",
      `echo "1 0" > /proc/sys/net/ipv4/ping_group_range`,
      `${cmd} 127.0.0.1 --mode dgram --count 1; echo "exit $?"`,
    ].join(" && ");
    const r = await run("unshare", ["-n", "sh", "-c", script], "", 30_000);
    assert.equal(r.code, 0, r.err);
    const [v4, v6, auto, refused] = r.out.split("===\n");
    checkPing(v4, "127.0.0.1", 3, false); // the kernel's socket shows no TTL
    checkPing(v6, "::1", 3, false);
    checkPing(auto, "127.0.0.1", 3, false); // auto: the datagram socket, allowed here
    assert.equal(refused.trim(), "exit 1");
    assert.match(r.err, /^ping: .*EACCES.*ping_group_range.*--mode raw/m);
  },
});

Deno.test({
  ...opts,
  name: "ping.ts: the same summary lines as iputils' ping",
  ignore: !root || !tools.ping,
  fn: async () => {
    const theirs = await run("ping", ["-c", "3", "-i", "0.01", "127.0.0.1"]);
    assert.equal(theirs.code, 0, theirs.err);
    const ours = await run(DENO, [
      ...RUN,
      example("ping.ts"),
      "127.0.0.1",
      "--count",
      "3",
      "--interval",
      "10",
    ]);
    assert.equal(ours.code, 0, ours.err);
    // the number-free shape of each line: header, replies, blank, statistics
    const shape = (out: string) =>
      out.trim().split("\n").map((l) => l.replace(/[\d.]+/g, "N").replace(/::N|N/g, "N"));
    assert.deepEqual(shape(ours.out), shape(theirs.out));
  },
});
