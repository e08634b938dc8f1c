// Process lifetime: a program with nothing in flight exits by itself, one
// with ops in flight stays alive, and close() or exit never crash. Each case
// runs in its own Deno process.
import assert from "node:assert/strict";

const mod = new URL("../mod.ts", import.meta.url).href;
const helpers = new URL("./_helpers.ts", import.meta.url).href;

async function run(
  code: string,
  timeoutMs = 10_000,
): Promise<{ code: number; signal: string | null; out: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(
    new TextEncoder().encode(
      `import * as ario from "${mod}";\nimport * as h from "${helpers}";\n${code}`,
    ),
  );
  await w.close();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const r = await child.output();
  clearTimeout(timer);
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  return { code: r.code, signal: r.signal, out };
}

Deno.test("a program with nothing in flight exits by itself", async () => {
  const t0 = performance.now();
  const r = await run(
    `await ario.single(ario.op.nop()); await ario.single(ario.op.timeout(5)); console.log("end");`,
  );
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /end/);
  assert.ok(performance.now() - t0 < 8000);
});

Deno.test("ops in flight keep the process alive until they complete", async () => {
  const r = await run(`
    const [c, s] = await h.tcpPair();
    const buf = new Uint8Array(5);
    ario.single(ario.op.recv(s, buf, { waitAll: true })).then((n) => console.log("got", n));
    // no JS timer: only the C loop can keep us alive; the peer writes from a C timeout
    ario.multi([ario.op.timeout(100, { link: "hard" }), ario.op.send(c, new TextEncoder().encode("hello"))]);
  `);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /got 5/);
});

Deno.test("once every op completed the process exits, however they completed", async () => {
  // a cancel that catches its target still staged in JS completes it there, outside
  // any reap: the last ref'd op must let the process go wherever it completes
  const cases = {
    "op.cancel, same tick":
      `const r = ario.op.recv(b.fd, new Uint8Array(1)); const p = ario.single(r);
      await ario.single(ario.op.cancel(r)); await p.catch(() => {});`,
    "cancel by fd, same tick": `const p = ario.single(ario.op.recv(b.fd, new Uint8Array(1)));
      await ario.single(ario.op.cancel({ fd: b.fd })); await p.catch(() => {});`,
    "abort, same tick": `const ac = new AbortController();
      const p = ario.single(ario.op.recv(b.fd, new Uint8Array(1)), { signal: ac.signal });
      ac.abort(); await p.catch(() => {});`,
    "read aborted, same tick": `const ac = new AbortController();
      const p = b.read(new Uint8Array(1), { signal: ac.signal }); ac.abort(); await p.catch(() => {});`,
    "read aborted in C": `const ac = new AbortController();
      const p = b.read(new Uint8Array(1), { signal: ac.signal });
      await ario.single(ario.op.timeout(5)); ac.abort(); await p.catch(() => {});`,
    "close with a read in flight":
      `const p = b.read(new Uint8Array(1)); b.close(); await p.catch(() => {});`,
  };
  await Promise.all(
    Object.entries(cases).map(async ([name, body]) => {
      const r = await run(
        `const [a, b] = ario.UnixStream.pair();\n${body}\na.close(); b.close(); console.log("end");`,
        20_000,
      );
      assert.equal(r.signal, null, `${name}: still alive after 20 s`);
      assert.equal(r.code, 0, `${name}: ${r.out}`);
      assert.match(r.out, /end/, name);
    }),
  );
});

Deno.test("an unref'd timeout does not keep the process alive", async () => {
  const t0 = performance.now();
  const r = await run(
    `ario.sharedReactor().timeout(60_000_000_000, { ref: false }).then(() => console.log("fired"));`,
  );
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /fired/);
  assert.ok(performance.now() - t0 < 8000);
});

Deno.test("Deno.exit() with ops in flight exits cleanly", async () => {
  for (let i = 0; i < 5; i++) {
    const r = await run(`
      const [c, s] = await h.tcpPair();
      ario.single(ario.op.recv(s, new Uint8Array(4))).catch(() => {});
      await ario.single(ario.op.timeout(2));
      Deno.exit(3);
    `);
    assert.equal(r.signal, null, r.out);
    assert.equal(r.code, 3, r.out);
  }
});

Deno.test("Deno.exit() while the doorbell is ringing exits cleanly", async () => {
  for (let i = 0; i < 5; i++) {
    const r = await run(`
      ario.single(ario.op.timeout(1)).catch(() => {});
      await ario.single(ario.op.nop());
      const t = performance.now(); while (performance.now() - t < 20) {} // busy while the bell rings
      Deno.exit(4);
    `);
    assert.equal(r.signal, null, r.out);
    assert.equal(r.code, 4, r.out);
  }
});

Deno.test("an uncaught error while the doorbell is ringing exits with status 1, not a crash", async () => {
  for (let i = 0; i < 5; i++) {
    const r = await run(`
      await ario.single(ario.op.timeout(2));
      ario.single(ario.op.timeout(1));
      const t = performance.now(); while (performance.now() - t < 10) {} // the bell rings meanwhile
      throw new Error("boom");
    `);
    assert.equal(r.signal, null, r.out);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /Uncaught.*boom/);
  }
});

Deno.test("close() with ops in flight, then exit, never crashes", async () => {
  const r = await run(`
    const rx = new ario.Reactor({ entries: 32 });
    const [c, s] = await h.tcpPair();
    const p = ario.single(ario.op.recv(s, new Uint8Array(4)), { reactor: rx });
    const t = ario.single(ario.op.timeout(10_000), { reactor: rx });
    await rx.close();
    console.log(await p.catch((e) => e.code), await t.catch((e) => e.code));
  `);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /ECANCELED ECANCELED/);
});

Deno.test("an uncaught error a later listener cancels leaves the doorbell working", async () => {
  const r = await run(`
    await ario.single(ario.op.timeout(1)); // the reactor (and its error listener) exist first
    globalThis.addEventListener("error", (e) => e.preventDefault());
    globalThis.addEventListener("unhandledrejection", (e) => e.preventDefault());
    setTimeout(() => { throw new Error("ignored"); }, 0);
    Promise.reject(new Error("ignored too"));
    await new Promise((r) => setTimeout(r, 20));
    let n = 0;
    for await (const _ of ario.Timer.interval(2)) if (++n === 5) break; // the doorbell rings again
    await ario.single(ario.op.timeout(3));
    console.log("alive", n);
  `);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /alive 5/);
});
