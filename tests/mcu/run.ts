// Builds every tests/mcu/*.c, and each csrc/test/*.c with an `mcu:` line (the
// core tests both ports share, named core_<name>), as a bare-metal ELF for each
// MCU target and runs it under QEMU.  Prints exactly one status line per (test, target):
//   PASS mcu/<target>/<test> | FAIL mcu/<target>/<test> | SKIP mcu/<target>/<test> (<reason>)
// then `mcu: N passed, N failed, N skipped`.  Exit 1 if anything failed.
// Diagnostics (build errors, emulator output of failures) go to stderr.
//
//   deno run -A tests/mcu/run.ts [target ...] [-v] [--keep] [--filter substr] [--timeout s]
// (tests/mcu/run.sh finds deno and calls this.)  See docs/mcu-harness.md.

import { compile, type CompiledObject, pool } from "../../scripts/mcu/build.ts";
import { join } from "../../scripts/mcu/path.ts";
import {
  baseFlags,
  CORE_WARN,
  defaultSources,
  MCU_DIR,
  ROOT,
  run,
  type Target,
  TARGETS,
  type Toolchain,
  which,
} from "../../scripts/mcu/targets.ts";

const TEST_DIR = join(ROOT, "tests", "mcu");
const CORE_TEST_DIR = join(ROOT, "csrc", "test");

interface TestSpec {
  name: string;
  path: string;
  core: boolean;
  srcs: string[];
  cflags: string[];
  targets: string[] | null;
  timeoutS: number;
  expectExit: number;
}

interface Opts {
  targets: string[];
  verbose: boolean;
  keep: boolean;
  filter: string | null;
  timeoutS: number | null;
}

function parseOpts(argv: string[]): Opts {
  const o: Opts = { targets: [], verbose: false, keep: false, filter: null, timeoutS: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-v" || a === "--verbose") o.verbose = true;
    else if (a === "--keep") o.keep = true;
    else if (a === "--filter") o.filter = argv[++i];
    else if (a === "--timeout") o.timeoutS = Number(argv[++i]);
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
    else o.targets.push(...a.split(",").filter(Boolean));
  }
  return o;
}

/** The C files of a directory, sorted. */
function cFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && e.name.endsWith(".c"))
    .map((e) => e.name)
    .sort();
}

const MCU_DIRECTIVE = /\bmcu:\s*(no-core|src|cflags|targets|timeout|expect-exit)\b([^\n]*)/g;

/** Every tests/mcu/*.c, and the host's core tests (csrc/test/*.c) that name
 * what they need here (an `mcu:` line; test.h's bare port), as core_<name>. */
function readTests(filter: string | null): TestSpec[] {
  const sources = [
    ...cFiles(TEST_DIR).map((f) => ({ name: f.replace(/\.c$/, ""), path: join(TEST_DIR, f) })),
    ...cFiles(CORE_TEST_DIR).map((f) => ({
      name: `core_${f.replace(/\.c$/, "")}`,
      path: join(CORE_TEST_DIR, f),
    })),
  ].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const tests: TestSpec[] = [];
  for (const { name, path } of sources) {
    if (filter && !name.includes(filter)) continue;
    const text = Deno.readTextFileSync(path);
    if (path.startsWith(CORE_TEST_DIR) && !text.match(MCU_DIRECTIVE)) continue; // host only
    const spec: TestSpec = {
      name,
      path,
      core: true,
      srcs: [],
      cflags: [],
      targets: null,
      timeoutS: 30,
      expectExit: 0,
    };
    for (const m of text.matchAll(MCU_DIRECTIVE)) {
      const rest = m[2].replace(/\*\/.*$/, "").trim().split(/\s+/).filter(Boolean);
      if (m[1] === "no-core") spec.core = false;
      else if (m[1] === "src") spec.srcs.push(...rest.map((s) => join(ROOT, s)));
      else if (m[1] === "cflags") spec.cflags.push(...rest);
      else if (m[1] === "targets") spec.targets = rest;
      else if (m[1] === "timeout") spec.timeoutS = Number(rest[0]) || 30;
      else if (m[1] === "expect-exit") spec.expectExit = Number(rest[0]) || 0;
    }
    tests.push(spec);
  }
  return tests;
}

type Result = { status: "PASS" | "FAIL" | "SKIP"; reason?: string; log?: string };

function indent(s: string): string {
  const lines = s.trimEnd().split("\n");
  const tail = lines.length > 60 ? ["  | ...", ...lines.slice(-60)] : lines;
  return tail.map((l) => (l.startsWith("  | ") ? l : `  | ${l}`)).join("\n");
}

async function runTarget(t: Target, tests: TestSpec[], opts: Opts): Promise<Result[]> {
  const skipAll = (reason: string) => tests.map((): Result => ({ status: "SKIP", reason }));
  const tc: Toolchain | null = await t.detect();
  if (!tc) return skipAll(`no toolchain: install ${t.install}`);
  const emu = t.emulator && which(t.emulator.bin) ? t.emulator : null;

  const dir = await Deno.makeTempDir({ prefix: `ario-mcu-${t.name}-` });
  try {
    const common = [
      ...baseFlags(tc, t),
      "-g",
      `-DMCU_TARGET="${t.name}"`,
      "-DARIO_BARE=1", // the core's bare profile: the tests bring the I/O
      "-I",
      TEST_DIR,
      "-I",
      join(MCU_DIR, "rt"),
    ];
    const jobs = navigator.hardwareConcurrency || 2;
    const build = async (srcs: string[], flags: string[], sub: string) => {
      const out = join(dir, sub);
      await Deno.mkdir(out, { recursive: true });
      const rs = await pool(srcs, jobs, (s) => compile(tc, s, out, flags));
      const bad = rs.filter((r) => !r.ok);
      const log = rs.filter((r) => r.log || !r.ok).map((r) => `${r.cmd.join(" ")}\n${r.log}`).join(
        "\n",
      );
      return { ok: bad.length === 0, objs: rs.map((r) => r.obj), log };
    };

    // Runtime: startup + port + common runtime + libc shims (+ target extras).
    let rt: { ok: boolean; objs: CompiledObject[]; log: string } | null = null;
    if (t.arch) {
      const a = await build(
        [
          join(MCU_DIR, t.arch, "start.S"),
          join(MCU_DIR, t.arch, "port.c"),
          join(MCU_DIR, "rt", "mcu_rt.c"),
        ],
        common,
        "rt",
      );
      const b = await build(
        [join(MCU_DIR, "libc", "string.c"), ...t.rtExtra.map((s) => join(MCU_DIR, s))],
        [...common, ...tc.noBuiltinFlags],
        "rt-libc",
      );
      rt = { ok: a.ok && b.ok, objs: [...a.objs, ...b.objs], log: a.log + b.log };
    }

    // The core (csrc/), compiled once, only if some test wants it.
    let core: { ok: boolean; objs: CompiledObject[]; log: string } = {
      ok: true,
      objs: [],
      log: "",
    };
    const def = defaultSources();
    if (tests.some((x) => x.core) && !def.placeholder) {
      core = await build(def.sources, [
        ...common,
        ...CORE_WARN,
        ...def.includes.flatMap((d) => ["-I", d]),
      ], "core");
    }

    return await pool(tests, jobs, async (test): Promise<Result> => {
      if (test.targets && !test.targets.includes(t.name)) {
        return { status: "SKIP", reason: "not for this target (mcu: targets)" };
      }
      if (test.core && !core.ok) {
        return { status: "FAIL", log: `core (csrc/) does not compile:\n${core.log}` };
      }
      if (rt && !rt.ok) return { status: "FAIL", log: `runtime does not compile:\n${rt.log}` };
      const incl = test.core ? def.includes.flatMap((d) => ["-I", d]) : [];
      const b = await build(
        [test.path, ...test.srcs],
        [...common, ...incl, ...test.cflags],
        `t-${test.name}`,
      );
      if (!b.ok) return { status: "FAIL", log: b.log };
      if (!t.arch || !rt) {
        return { status: "SKIP", reason: `compiled only: ${t.noEmulatorReason ?? "no emulator"}` };
      }
      if (!emu) {
        return {
          status: "SKIP",
          reason: `${t.emulator!.bin} not installed: apt-get install ${t.emulator!.pkg}`,
        };
      }
      const elf = join(dir, `${test.name}.elf`);
      const link = [
        ...tc.cc,
        ...baseFlags(tc, t),
        "-nostdlib",
        "-T",
        join(MCU_DIR, t.arch, "link.ld"),
        "-Wl,--gc-sections",
        ...rt.objs.map((o) => o.obj),
        ...b.objs.map((o) => o.obj),
        ...(test.core ? core.objs.map((o) => o.obj) : []),
        ...tc.linkLibs,
        "-o",
        elf,
      ];
      const l = await run(link, { cwd: ROOT });
      if (l.code !== 0) return { status: "FAIL", log: `${link.join(" ")}\n${l.stdout}${l.stderr}` };
      const timeoutS = opts.timeoutS ?? test.timeoutS;
      const cmd = [emu.bin, ...emu.args(elf)];
      const r = await run(cmd, { cwd: dir, timeoutMs: timeoutS * 1000 });
      const out = r.stdout + r.stderr;
      const log = `$ ${cmd.join(" ")}\n${out}${
        r.timedOut ? `\n(timeout after ${timeoutS}s)` : ""
      }\n(exit ${r.code})`;
      // Both channels must agree: the emulator's exit status and the line
      // mcu_exit() printed (guards against an emulator that stops early).
      const want = test.expectExit;
      const pass = !r.timedOut && r.code === want &&
        new RegExp(`^mcu: exit ${want}$`, "m").test(out);
      return { status: pass ? "PASS" : "FAIL", log };
    });
  } finally {
    if (opts.keep) console.error(`(kept ${t.name} build in ${dir})`);
    else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function main(): Promise<number> {
  let opts: Opts;
  try {
    opts = parseOpts(Deno.args);
  } catch (e) {
    console.error(`mcu: ${(e as Error).message}`);
    return 2;
  }
  const targets = opts.targets.length
    ? opts.targets.map((n) => TARGETS.find((t) => t.name === n) ?? n)
    : TARGETS;
  for (const t of targets) {
    if (typeof t === "string") {
      console.error(`mcu: unknown target '${t}' (known: ${TARGETS.map((x) => x.name).join(", ")})`);
      return 2;
    }
  }
  const tests = readTests(opts.filter);
  if (tests.length === 0) {
    console.error("mcu: no tests found in tests/mcu/*.c");
    return 2;
  }
  let passed = 0, failed = 0, skipped = 0;
  // Targets run one after another (each already builds with all cores).
  for (const t of targets as Target[]) {
    const results = await runTarget(t, tests, opts);
    results.forEach((r, i) => {
      const id = `mcu/${t.name}/${tests[i].name}`;
      if (r.status === "SKIP") {
        skipped++;
        console.log(`SKIP ${id} (${r.reason})`);
      } else {
        if (r.status === "PASS") passed++;
        else failed++;
        console.log(`${r.status} ${id}`);
        if ((r.status === "FAIL" || opts.verbose) && r.log) console.error(indent(r.log));
      }
    });
  }
  console.log(`mcu: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed ? 1 : 0;
}

Deno.exit(await main());
