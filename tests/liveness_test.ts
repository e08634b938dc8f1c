// Liveness of the doorbell and the timers: completions that are ready are
// always reaped (no stall after the microtask budget, no wake-up lost to
// an op that completes inside ario_submit), a tiny-period interval never
// starves other macrotasks, and a Worker terminated with ops in flight
// cannot take the process down.
import assert from "node:assert/strict";
import { sharedReactor, TcpListener, TcpStream, Timer } from "../mod.ts";

const backend = Deno.env.get("ARIO_BACKEND") || sharedReactor().backend;

Deno.test(`100 MB in 1 MiB writes to a reader that pauses 1 ms every 16 reads never stalls (${backend})`, async () => {
  const TOTAL = 100 * 1024 * 1024, CHUNK = 1024 * 1024;
  await using l = TcpListener.bind({ hostname: "127.0.0.1", port: 0 });
  const [server, client] = await Promise.all([l.accept(), TcpStream.connect(l.localAddr)]);
  const chunk = new Uint8Array(CHUNK);
  for (let i = 0; i < CHUNK; i++) chunk[i] = (i * 31 + 7) & 0xff;
  let progress = 0, last = -1;
  let watchdog: ReturnType<typeof setInterval> | undefined;
  // a stall is no progress for 5 s: fail with where it stopped, not the test timeout
  const stalled = new Promise<never>((_, reject) => {
    watchdog = setInterval(() => {
      if (progress === last) reject(new Error(`stalled at ${progress} of ${TOTAL} bytes`));
      last = progress;
    }, 5000);
  });
  try {
    const writer = (async () => {
      for (let sent = 0; sent < TOTAL; sent += CHUNK) await client.writeAll(chunk);
      await client.closeWrite();
    })();
    writer.catch(() => {});
    const buf = new Uint8Array(64 * 1024);
    let got = 0, reads = 0, bad = -1;
    for (;;) {
      const n = await Promise.race([server.read(buf), stalled]);
      if (n === null) break;
      for (let i = 0; i < n && bad < 0; i += 4099) { // spot-check the bytes' positions
        if (buf[i] !== (((got + i) % CHUNK) * 31 + 7 & 0xff)) bad = got + i;
      }
      got += n;
      progress = got;
      if (++reads % 16 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.race([writer, stalled]);
    assert.equal(bad, -1, `wrong byte at ${bad}`);
    assert.equal(got, TOTAL, `stalled at ${got} of ${TOTAL} bytes`);
  } finally {
    clearInterval(watchdog);
    client.close();
    server.close();
  }
});

Deno.test("Timer.interval(1e-6) lets other macrotasks run while it ticks", async () => {
  await Timer.after(1);
  const t0 = performance.now();
  let probes = 0, ticks = 0;
  const probe = () => {
    probes++;
    if (performance.now() - t0 < 300) setTimeout(probe, 0);
  };
  setTimeout(probe, 0);
  for await (const _ of Timer.interval(1e-6)) {
    ticks++;
    if (performance.now() - t0 > 300) break;
  }
  // before: 750 000 ticks in 300 ms and not one setTimeout(0) ran
  assert.ok(ticks > 100, `${ticks} ticks`);
  assert.ok(probes >= 10, `setTimeout(0) ran ${probes} times in 300 ms (${ticks} ticks)`);
});

/** Runs `code` in a child `deno run` (no type check of the Worker's modules); its output and status. */
async function child(code: string): Promise<{ code: number; signal: string | null; out: string }> {
  const c = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const w = c.stdin.getWriter();
  await w.write(new TextEncoder().encode(code));
  await w.close();
  const killer = setTimeout(() => c.kill("SIGKILL"), 30_000);
  const r = await c.output();
  clearTimeout(killer);
  const dec = new TextDecoder();
  return { code: r.code, signal: r.signal, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

const mod = new URL("../mod.ts", import.meta.url).href;

/** A program that starts Workers running `body` (after importing ario) and then does `main`. */
function withWorker(body: string, main: string): string {
  const worker = `import * as ario from "${mod}";\n${body}`;
  return `const src = URL.createObjectURL(new Blob([${
    JSON.stringify(worker)
  }], { type: "text/javascript" }));\n${main}`;
}

Deno.test("a Worker terminated with a timer and a read in flight does not crash the process", async () => {
  const r = await child(withWorker(
    `const [a] = ario.UnixStream.pair();
    a.read(new Uint8Array(8)).catch(() => {});
    ario.Timer.after(150).then(() => {});
    postMessage("ready");`,
    `for (let i = 0; i < 5; i++) {
      const w = new Worker(src, { type: "module" });
      await new Promise((r) => w.onmessage = r);
      w.terminate();
    }
    await new Promise((r) => setTimeout(r, 300)); // every timer fires after its isolate is gone
    console.log("survived");`,
  ));
  // before: the doorbell thread rang the dead isolate's callback when the timer fired (SIGSEGV)
  assert.equal(r.signal, null, r.out);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /survived/);
});

Deno.test("a reactor in a Worker does I/O, timers and close() (wait mode)", async () => {
  const r = await child(withWorker(
    `const [a, b] = ario.UnixStream.pair();
    const t0 = performance.now();
    await ario.Timer.after(5);
    const waited = performance.now() - t0;
    const p = a.read(new Uint8Array(8));
    await b.write(new Uint8Array([1, 2, 3]));
    const n = await p;
    const r = new ario.Reactor();
    const res = await r.timeout(1_000_000);
    await r.close();
    a.close(); b.close();
    postMessage({ n, waited, res, closed: r.closed });`,
    `const w = new Worker(src, { type: "module" });
    const d = await new Promise((r) => w.onmessage = (e) => r(e.data));
    w.terminate();
    console.log(JSON.stringify(d));`,
  ));
  assert.equal(r.code, 0, r.out);
  const d = JSON.parse(r.out.trim().split("\n").pop()!);
  assert.equal(d.n, 3);
  assert.ok(d.waited >= 5, r.out);
  assert.equal(d.res, -62, r.out); // -ETIME
  assert.equal(d.closed, true);
});
