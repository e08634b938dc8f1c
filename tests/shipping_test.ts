// The package as JSR users get it: exactly the files `deno publish --dry-run`
// lists, served over HTTP (on 127.0.0.1) and imported from a fresh DENO_DIR
// with no build/ beside them, so the embedded library for this platform is
// checked, cached and loaded; `deno cache` then `--cached-only` with no
// server; missing permissions name their flag. Also: the checkout's pure-JS
// parts import and run with no permissions at all.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { embed } from "../scripts/embed.ts";
import { TARGETS } from "../scripts/build.ts";
import { libraryFileName, sha256Hex } from "../ffi/load.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const key = `${Deno.build.os}-${Deno.build.arch}`;

let listed: Promise<string[]> | undefined;
/** The files `deno publish --dry-run` would upload, relative to the root (embeds first if needed). */
function dryRunFiles(): Promise<string[]> {
  return listed ??= dryRun();
}

async function dryRun(): Promise<string[]> {
  const missing = TARGETS.some((t) => {
    try {
      return !Deno.statSync(`${root}ffi/bin/${t.os}-${t.arch}.ts`).isFile;
    } catch {
      return true;
    }
  });
  if (missing) await embed(`${root}ffi/bin`);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = dec(r.stdout) + dec(r.stderr);
  assert.equal(r.code, 0, text);
  const prefix = new URL(".", new URL(`file://${root}`)).href;
  const files = [...text.matchAll(/^\s+(file:\/\/\S+)/gm)].map((m) => {
    assert.ok(m[1].startsWith(prefix), m[1]);
    return decodeURIComponent(m[1].slice(prefix.length));
  });
  assert.ok(files.length > 0, text);
  return files;
}

/** A server of `dir` on 127.0.0.1; `hide` paths answer 404. */
function serve(dir: string, hide: (path: string) => boolean = () => false) {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (hide(path)) return new Response("not found", { status: 404 });
      try {
        const body = await Deno.readFile(`${dir}${path}`);
        return new Response(body, { headers: { "content-type": "application/typescript" } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    allow: `--allow-import=127.0.0.1:${server.addr.port}`,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}

/** Runs `code` (stdin) under a fresh-ish environment; stdout + stderr and the exit code. */
async function run(
  tmp: string,
  args: string[],
  code: string,
  env: Record<string, string> = {},
  scriptArgs: string[] = [],
): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-lock", ...args, "-", ...scriptArgs],
    cwd: tmp,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "",
      HOME: `${tmp}/home`,
      DENO_DIR: `${tmp}/deno`,
      ARIO_CACHE: `${tmp}/cache`,
      NO_COLOR: "1",
      ...env,
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(code));
  await w.close();
  const r = await child.output();
  return { code: r.code, out: dec(r.stdout) + dec(r.stderr) };
}

const nop = (base: string) =>
  `import { op, sharedReactor, single } from "${base}/mod.ts";\nawait single(op.nop());\nconsole.log("loaded", sharedReactor().backend);\n`;
const LOADED = /loaded (io_uring|epoll|poll|select|kqueue|windows)/;
const ALL = ["--allow-ffi", "--allow-env", "--allow-read", "--allow-write"];

/** The package as the dry run lists it, copied to `${tmp}/pkg`. */
async function stage(tmp: string): Promise<string[]> {
  const files = await dryRunFiles();
  for (const f of files) {
    const to = `${tmp}/pkg/${f}`;
    await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(`${root}${f}`, to);
  }
  return files;
}

function cacheEntries(tmp: string): string[] {
  const out: string[] = [];
  try {
    for (const d of Deno.readDirSync(`${tmp}/cache`)) {
      out.push(d.name);
      if (d.isDirectory) {
        for (const f of Deno.readDirSync(`${tmp}/cache/${d.name}`)) out.push(`${d.name}/${f.name}`);
      }
    }
  } catch { /* no cache yet */ }
  return out;
}

Deno.test("the dry run ships the library modules and no C sources, tests or build output", async () => {
  const files = await dryRunFiles();
  for (const t of TARGETS) {
    assert.ok(files.includes(`ffi/bin/${t.os}-${t.arch}.ts`), `${t.os}-${t.arch}`);
  }
  // every export (mod.ts and the CLI examples) is in the package
  const exports = JSON.parse(await Deno.readTextFile(`${root}deno.json`)).exports;
  for (const f of Object.values(exports) as string[]) assert.ok(files.includes(f.slice(2)), f);
  for (const f of ["mod.ts", "ffi/load.ts", "README.md", "LICENSE", "deno.json"]) {
    assert.ok(files.includes(f), f);
  }
  for (const f of files) {
    assert.doesNotMatch(
      f,
      /^(csrc|tests|build|dist|node_modules|scripts|examples\/firmware)\/|_test\.ts$/,
      f,
    );
  }
});

Deno.test("served as the dry run lists it, the package loads, caches and checks its library", async () => {
  const tmp = await Deno.makeTempDir();
  await stage(tmp);
  const server = serve(`${tmp}/pkg`);
  const args = [server.allow, ...ALL];
  try {
    const first = await run(tmp, args, nop(server.base));
    assert.match(first.out, LOADED, first.out);
    const dirs = [...Deno.readDirSync(`${tmp}/cache`)];
    assert.equal(dirs.length, 1); // one directory, named by the library's hash
    const again = await run(tmp, args, nop(server.base)); // from the cache this time
    assert.match(again.out, LOADED, again.out);
    assert.equal([...Deno.readDirSync(`${tmp}/cache`)].length, 1);

    // the published CLI examples run from the package too
    const tool = (name: string) => `import "${server.base}/examples/${name}.ts";\n`;
    const help = await run(tmp, args, tool("udp_ping"), {}, ["--help"]);
    assert.equal(help.code, 0, help.out);
    assert.match(help.out, /^usage: udp_ping/);
    const scan = await run(tmp, args, tool("port_scan"), {}, [
      "--ports",
      "1-2",
      "--timeout",
      "200",
    ]);
    assert.match(scan.out, /scanned 2 ports in \d+ ms/, scan.out);

    // a truncated or replaced library is not trusted: it is written again
    const { sha256 } = await import(`${root}ffi/bin/${key}.ts`);
    const lib = `${tmp}/cache/${dirs[0].name}/${libraryFileName()}`;
    const good = await Deno.readFile(lib);
    assert.equal(sha256Hex(good), sha256);
    for (const bad of [good.subarray(0, good.length >> 1), new Uint8Array(good.length).fill(7)]) {
      await Deno.writeFile(lib, bad);
      const r = await run(tmp, args, nop(server.base));
      assert.match(r.out, LOADED, r.out);
      assert.equal(sha256Hex(await Deno.readFile(lib)), sha256);
      assert.deepEqual(cacheEntries(tmp).filter((f) => f.endsWith(".tmp")), []);
    }
  } finally {
    await server.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("deno cache, then --cached-only with no server: the library loads", async () => {
  const tmp = await Deno.makeTempDir();
  await stage(tmp);
  const server = serve(`${tmp}/pkg`);
  const url = `${server.base}/mod.ts`;
  try {
    const c = await new Deno.Command(Deno.execPath(), {
      args: ["cache", "--no-lock", server.allow, url],
      cwd: tmp,
      env: { DENO_DIR: `${tmp}/deno`, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(c.code, 0, dec(c.stderr));
  } finally {
    await server.close();
  }
  try {
    const r = await run(tmp, ["--cached-only", server.allow, ...ALL], nop(server.base));
    assert.match(r.out, LOADED, r.out);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a library module that cannot be fetched is named as the cause", async () => {
  const tmp = await Deno.makeTempDir();
  await stage(tmp);
  const server = serve(`${tmp}/pkg`, (p) => p.startsWith("/ffi/bin/"));
  try {
    const r = await run(tmp, [server.allow, ...ALL], nop(server.base));
    assert.notEqual(r.code, 0);
    assert.match(r.out, new RegExp(`ffi/bin/${key}\\.ts could not be imported`), r.out);
    assert.doesNotMatch(r.out, /embeds no library|deno task build/, r.out);
  } finally {
    await server.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("from the package, each missing permission is named by its flag, and no .tmp is left", async () => {
  const tmp = await Deno.makeTempDir();
  await stage(tmp);
  const server = serve(`${tmp}/pkg`);
  const cache = `${tmp}/cache`;
  const cases: [string[], RegExp][] = [
    [[], /--allow-env=XDG_CACHE_HOME,HOME|--allow-env=HOME/],
    [["--allow-env"], new RegExp(`--allow-read=${cache}`)],
    [["--allow-env", `--allow-read=${cache}`], new RegExp(`--allow-write=${cache}`)],
    [["--allow-env", `--allow-read=${cache}`, `--allow-write=${cache}`], /--allow-ffi/],
  ];
  try {
    for (const [flags, want] of cases) {
      const r = await run(tmp, [server.allow, ...flags], nop(server.base));
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, want, `${flags.join(" ")}: ${r.out}`);
      assert.doesNotMatch(r.out, /deno task build/, r.out);
      assert.deepEqual(cacheEntries(tmp).filter((f) => f.endsWith(".tmp")), []);
    }
    // granted but unset: says so, instead of asking for a flag that is there
    const unset = await run(tmp, [server.allow, "--allow-env"], nop(server.base), {
      HOME: "",
      ARIO_CACHE: "",
    });
    assert.match(unset.out, /\$HOME is not set: set ARIO_CACHE=<dir>/, unset.out);
    // a rename that fails (a directory where the library goes) leaves no .tmp behind
    const { sha256 } = await import(`${root}ffi/bin/${key}.ts`);
    const blocked = `${cache}/${sha256.slice(0, 16)}/${libraryFileName()}`;
    await Deno.remove(blocked).catch(() => {}); // written by the case with no --allow-ffi
    await Deno.mkdir(`${blocked}/in-the-way`, { recursive: true });
    const all = [server.allow, ...ALL];
    const failed = await run(tmp, all, nop(server.base));
    assert.match(failed.out, /Cannot load libario: writing .*: /, failed.out);
    assert.deepEqual(cacheEntries(tmp).filter((f) => f.endsWith(".tmp")), []);
    await Deno.remove(blocked, { recursive: true });
    // and with them all, it runs
    const ok = await run(tmp, [
      server.allow,
      "--allow-env",
      `--allow-read=${cache}`,
      `--allow-write=${cache}`,
      "--allow-ffi",
    ], nop(server.base));
    assert.match(ok.out, LOADED, ok.out);
  } finally {
    await server.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the pure-JS parts import and run with no permissions at all", async () => {
  const tmp = await Deno.makeTempDir();
  const code = `
import { channel, Mutex, RingBuffer, spawn, runtime, VirtualClock } from "${
    new URL("mod.ts", `file://${root}`).href
  }";
const [tx, rx] = channel<number>();
await tx.send(40);
const m = new Mutex(1);
const g = await m.lock();
const one = g.value;
g.release();
const ring = new RingBuffer<number>(8);
const clock = new VirtualClock(5);
const joined = await spawn(async () => (await rx.receive()) + one + 1);
console.log("pure", joined, clock.now(), typeof runtime, typeof ring);
`;
  try {
    const r = await run(tmp, [], code);
    assert.match(r.out, /pure 42 /, r.out);
    assert.equal(r.code, 0, r.out);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
