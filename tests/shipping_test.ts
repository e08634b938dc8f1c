// The package as JSR users get it: its modules served over HTTP (on
// 127.0.0.1), imported from a fresh DENO_DIR with no build/ beside them, so
// the embedded library for this platform is checked, cached and loaded.
import assert from "node:assert/strict";
import { embed } from "../scripts/embed.ts";

const root = new URL("..", import.meta.url).pathname;

Deno.test("imported over HTTP, the package loads its embedded library from a cache", async () => {
  const tmp = await Deno.makeTempDir();
  const pkg = `${tmp}/pkg`;
  await Deno.mkdir(`${pkg}/ffi`, { recursive: true });
  for (const dir of ["", "ffi/"]) {
    for (const e of Deno.readDirSync(`${root}${dir}`)) {
      if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
        await Deno.copyFile(`${root}${dir}${e.name}`, `${pkg}/${dir}${e.name}`);
      }
    }
  }
  await embed(`${pkg}/ffi/bin`, true);

  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      try {
        const body = await Deno.readFile(`${pkg}${path}`);
        return new Response(body, { headers: { "content-type": "application/typescript" } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const run = async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-lock", // a user's project, not this checkout: leave its deno.json and lockfile alone
        `--allow-import=127.0.0.1:${server.addr.port}`,
        "--allow-ffi",
        "--allow-env",
        "--allow-read",
        `--allow-write=${tmp}/cache`,
        "-",
      ],
      cwd: tmp,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        DENO_DIR: `${tmp}/deno`,
        ARIO_CACHE: `${tmp}/cache`,
        NO_COLOR: "1",
      },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = out.stdin.getWriter();
    await w.write(new TextEncoder().encode(
      `import { op, reactor, single } from "${base}/mod.ts";\nawait single(op.nop());\nconsole.log("loaded", reactor().backend);\n`,
    ));
    await w.close();
    const r = await out.output();
    return new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  };
  try {
    const first = await run();
    assert.match(first, /loaded (io_uring|epoll|poll|select|kqueue|windows)/, first);
    const cached = [...Deno.readDirSync(`${tmp}/cache`)];
    assert.equal(cached.length, 1); // one directory, named by the library's hash
    const again = await run(); // from the cache this time
    assert.match(again, /loaded/, again);
    assert.equal([...Deno.readDirSync(`${tmp}/cache`)].length, 1);
  } finally {
    ac.abort();
    await server.finished;
    await Deno.remove(tmp, { recursive: true });
  }
});
