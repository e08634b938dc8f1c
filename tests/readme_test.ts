// README.md's code blocks: the TypeScript ones run as `deno test --doc README.md` (scripts/test-all.sh);
// this file covers the rest: the install line names this package, the quick start's commands exist and
// the demo runs, and every path the layout block names is in the tree.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = Deno.readTextFileSync(`${root}README.md`);
const blocks = [...readme.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)].map((m) => ({
  lang: m[1],
  body: m[2],
  heading: [...readme.slice(0, m.index).matchAll(/^#+ (.*)$/gm)].at(-1)?.[1] ?? "",
}));
const deno = Deno.execPath();

Deno.test("README: every block is TypeScript (run by deno test --doc), a command, or the layout", () => {
  for (const b of blocks) {
    assert.ok(["ts", "sh", ""].includes(b.lang), `a ${b.lang} block under "${b.heading}"`);
  }
  assert.ok(blocks.filter((b) => b.lang === "ts").length >= 5);
});

Deno.test("README: the install line adds this package", () => {
  const name = JSON.parse(Deno.readTextFileSync(`${root}deno.json`)).name;
  const install = blocks.find((b) => b.heading === "Install");
  assert.equal(install?.body.trim(), `deno add jsr:${name}`);
});

Deno.test({
  name: "README: the quick start's two commands are npm scripts, and the demo runs",
  ignore: (Deno.env.get("ARIO_BACKEND") ?? "io_uring") !== "io_uring", // once per suite run
  fn: async () => {
    const quick = blocks.find((b) => b.heading.startsWith("Quick start"))!;
    const lines = quick.body.trim().split("\n");
    assert.deepEqual(lines, ["npm install && npm run demo", "npm install && npm test"]);
    const scripts = JSON.parse(Deno.readTextFileSync(`${root}package.json`)).scripts;
    assert.ok(scripts.demo && scripts.test);
    const ci = Deno.readTextFileSync(`${root}.ci/run`);
    assert.match(ci, /npm install[^\n]*&& npm test/, ".ci/run runs the second command");
    // the first command's demo (npm install is what CI has just done)
    const out = await new Deno.Command(deno, {
      args: ["task", "demo"],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  },
});

Deno.test("README: every path in the layout block exists", () => {
  const layout = blocks.find((b) => b.heading === "Layout")!;
  let base = "", checked = 0;
  for (const line of layout.body.split("\n")) {
    if (!line.startsWith(" ")) base = /^([\w.-]+\/)+/.exec(line)?.[0] ?? ""; // a line names its folder
    for (const m of line.matchAll(/[\w.-]+(?:\/[\w.{},-]*)*/g)) {
      const p = m[0].replace(/,+$/, "");
      if (!/\.(ts|c|h|md|json|sh|svg)$|\/$/.test(p)) continue;
      for (const one of expand(p)) {
        assert.ok(
          exists(`${root}${one}`) || exists(`${root}${base}${one}`),
          `${one} (in "${line.trim()}")`,
        );
        checked++;
      }
    }
  }
  assert.ok(checked > 30, `checked ${checked} paths`);
});

Deno.test("README: the layout block names every module, folder and C source of the tree", () => {
  const layout = blocks.find((b) => b.heading === "Layout")!.body;
  const named = new Set<string>();
  let base = "";
  for (const line of layout.split("\n")) {
    if (!line.startsWith(" ")) base = /^([\w.-]+\/)+/.exec(line)?.[0] ?? "";
    for (const m of line.matchAll(/[\w.-]+(?:\/[\w.{},-]*)*/g)) {
      for (const one of expand(m[0].replace(/,+$/, ""))) named.add(one).add(`${base}${one}`);
    }
  }
  const want: string[] = [];
  const list = (dir: string, keep: (name: string, isDir: boolean) => boolean) => {
    for (const e of Deno.readDirSync(`${root}${dir}`)) {
      if (keep(e.name, e.isDirectory)) want.push(`${dir}${e.name}${e.isDirectory ? "/" : ""}`);
    }
  };
  const skip = new Set(["node_modules", "build", "dist", "LICENSE"]);
  list("", (n, d) => !n.startsWith(".") && !skip.has(n) && (d || n.endsWith(".ts")));
  list("csrc/", (n, d) => !d && n.endsWith(".c"));
  list("csrc/backend/", (n) => n.endsWith(".c"));
  const missing = want.filter((p) => !named.has(p) && !named.has(p.replace(/^csrc\//, "")));
  assert.deepEqual(missing, [], "name them in README's Layout block");
});

/** `backend/{a,b}.c` -> `backend/a.c`, `backend/b.c`. */
function expand(p: string): string[] {
  const m = p.match(/^(.*)\{([^}]*)\}(.*)$/);
  return m ? m[2].split(",").map((x) => `${m[1]}${x}${m[3]}`) : [p];
}

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}
