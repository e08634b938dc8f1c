// Cross-compiles the ario C core for a microcontroller target into a static
// library and reports its size, stack and heap use.
//
//   deno run -A scripts/cross.ts --list
//   deno run -A scripts/cross.ts --target <t|all> [--out dir] [--src file.c ...]
//        [--include dir ...] [--define K=V ...] [--cflag FLAG ...] [--placeholder]
//        [--profile bare|lwip] [--entries N]
//
// Default (--profile bare): the portable core csrc/ario.c alone, with
// -DARIO_BARE -Wextra -Werror; the report adds the static loop memory of
// --entries ops (default 16), declared as firmware does (ARIO_LOOP_STATIC,
// scripts/mcu/bare/static_loop.c, not archived).
//
// Output in dist/mcu/<target>/ (or --out): libario.a, the public headers,
// size.json, obj/ (objects and .su files).  Exit status: 0 ok, 1 build or
// check failure (compile error, heap use), 2 usage error or missing toolchain
// for an explicitly requested target.  See docs/mcu-harness.md.

import { join, relative, resolve } from "./mcu/path.ts";
import { analyzeStack, indirectCallsOf, parseSu, type StackReport } from "./mcu/stack.ts";
import {
  parseElf,
  readElf,
  sectionSizes,
  SHN_UNDEF,
  type Sizes,
  stackSizes,
  STB_LOCAL,
  STT_FUNC,
} from "./mcu/elf.ts";
import { archive, compile, pool } from "./mcu/build.ts";
import { PRIVATE_INCLUDE } from "./csrc.ts";
import {
  baseFlags,
  CORE_WARN,
  defaultSources,
  exists,
  findTarget,
  MCU_DIR,
  PROFILES,
  ROOT,
  run,
  type Target,
  TARGETS,
  type Toolchain,
  which,
} from "./mcu/targets.ts";

const HEAP_SYMBOLS = [
  "malloc",
  "calloc",
  "realloc",
  "free",
  "reallocarray",
  "aligned_alloc",
  "memalign",
  "posix_memalign",
  "valloc",
  "pvalloc",
  "strdup",
  "strndup",
  "sbrk",
  "_sbrk",
  "_sbrk_r",
  "_malloc_r",
  "_calloc_r",
  "_realloc_r",
  "_free_r",
  "pvPortMalloc",
  "vPortFree",
  "os_malloc",
  "heap_caps_malloc",
];

interface Args {
  list: boolean;
  targets: string[];
  out: string | null;
  srcs: string[];
  includes: string[];
  defines: string[];
  cflags: string[];
  placeholder: boolean;
  help: boolean;
  profile: string;
  entries: number;
}

function usage(): string {
  return [
    "usage: deno run -A scripts/cross.ts --list",
    "       deno run -A scripts/cross.ts --target <name|all> [--out dir] [--src file.c ...]",
    "            [--include dir ...] [--define K=V ...] [--cflag FLAG ...] [--placeholder]",
    "            [--profile bare|lwip] [--entries N]",
    `targets: ${TARGETS.map((t) => t.name).join(", ")}`,
  ].join("\n");
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    list: false,
    targets: [],
    out: null,
    srcs: [],
    includes: [],
    defines: [],
    cflags: [],
    placeholder: false,
    help: false,
    profile: "bare",
    entries: 16,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const val = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--list":
        a.list = true;
        break;
      case "--target":
      case "-t":
        a.targets.push(...val().split(",").filter(Boolean));
        break;
      case "--out":
      case "-o":
        a.out = val();
        break;
      case "--src":
        a.srcs.push(val());
        break;
      case "--include":
      case "-I":
        a.includes.push(val());
        break;
      case "--define":
      case "-D":
        a.defines.push(val());
        break;
      case "--cflag":
        a.cflags.push(val());
        break;
      case "--placeholder":
        a.placeholder = true;
        break;
      case "--profile":
        a.profile = val();
        if (!PROFILES[a.profile]) throw new Error(`unknown profile ${a.profile}`);
        break;
      case "--entries":
        a.entries = Number(val());
        if (!(a.entries >= 1 && a.entries <= 128)) throw new Error("--entries must be 1..128");
        break;
      case "--help":
      case "-h":
        a.help = true;
        break;
      default:
        // bare .c files after --src are accepted too: --src a.c b.c
        if (!arg.startsWith("-") && a.srcs.length > 0 && argv[i - 1] !== undefined) {
          a.srcs.push(arg);
        } else throw new Error(`unknown argument: ${arg}`);
    }
  }
  return a;
}

async function list(): Promise<void> {
  console.log("MCU targets (toolchain that would be used here):");
  for (const t of TARGETS) {
    const tc = await t.detect();
    const emu = t.emulator
      ? (which(t.emulator.bin)
        ? `tests: ${t.emulator.bin}`
        : `tests: SKIP, ${t.emulator.bin} missing (apt-get install ${t.emulator.pkg})`)
      : `tests: SKIP, ${t.noEmulatorReason}`;
    console.log(`  ${t.name.padEnd(16)} ${t.description}`);
    console.log(
      `  ${"".padEnd(16)} ${
        tc ? `toolchain: ${tc.label}` : `toolchain: MISSING, install ${t.install}`
      }`,
    );
    console.log(`  ${"".padEnd(16)} ${emu}`);
  }
}

function fmtTable(rows: string[][], right: number[] = []): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) =>
      "  " +
      r.map((cell, c) => (right.includes(c) ? cell.padStart(w[c]) : cell.padEnd(w[c]))).join("  ")
        .trimEnd()
    )
    .join("\n");
}

interface BuildReport {
  target: string;
  description: string;
  toolchain: string;
  flags: string[];
  placeholder: boolean;
  sources: string[];
  library: string;
  headers: string[];
  size: {
    total: Sizes;
    objects: Record<string, Sizes>;
    tool: { name: string; text: number; data: number; bss: number } | null;
    library: Sizes; // total without the static loop object (what libario.a holds)
    staticLoop: { entries: number; bytes: number } | null;
  };
  profile: string;
  externals: string[];
  zeroHeap: { ok: boolean; heapSymbols: string[] };
  stack: StackReport;
  abi?: {
    ok: boolean;
    text: string;
    functions: number;
    entry: number;
    retw: number;
    call8: number;
    call0: number;
    ret: number;
  };
}

async function toolSize(tc: Toolchain, lib: string): Promise<BuildReport["size"]["tool"]> {
  if (!tc.sizeTool) return null;
  const r = await run([tc.sizeTool, "-B", "-t", lib]).catch(() => null);
  if (!r || r.code !== 0) return null;
  const line = r.stdout.trim().split("\n").pop() ?? "";
  const m = /^\s*(\d+)\s+(\d+)\s+(\d+)/.exec(line);
  return m ? { name: tc.sizeTool, text: +m[1], data: +m[2], bss: +m[3] } : null;
}

async function buildTarget(t: Target, tc: Toolchain, args: Args): Promise<boolean> {
  const def = defaultSources(args.placeholder, args.profile);
  const srcs = args.srcs.length ? args.srcs.map((s) => resolve(s)) : def.sources;
  const includes = [...def.includes, ...args.includes.map((d) => resolve(d))];
  const headers = def.headers;
  // --out names the directory for a single target; with several targets
  // (or `all`) each gets <out>/<target>.  Default: dist/mcu/<target>.
  const single = args.targets.length === 1 && args.targets[0] !== "all";
  const out = args.out
    ? (single ? resolve(args.out) : join(resolve(args.out), t.name))
    : join(ROOT, "dist", "mcu", t.name);
  const objDir = join(out, "obj");
  await Deno.mkdir(objDir, { recursive: true });
  for (const s of srcs) {
    if (!exists(s)) {
      console.error(`cross: ${t.name}: source not found: ${s}`);
      return false;
    }
  }
  if (srcs.length === 0) {
    console.error(`cross: ${t.name}: no sources`);
    return false;
  }
  const core = !def.placeholder || args.srcs.length > 0;
  const flags = [
    ...baseFlags(tc, t),
    ...(core ? [...CORE_WARN, ...PROFILES[args.profile].defines.map((d) => `-D${d}`)] : []),
    ...includes.flatMap((d) => ["-I", d]),
    ...args.defines.map((d) => `-D${d}`),
    ...args.cflags,
  ];
  console.log(`== ${t.name}: ${t.description}`);
  console.log(`   toolchain: ${tc.label}`);
  if (def.placeholder && !args.srcs.length) {
    console.log(
      `   sources: ${
        args.placeholder ? "--placeholder" : "csrc/ not found"
      }: building scripts/mcu/placeholder`,
    );
  }
  // The static loop memory firmware would declare: measured, not archived.
  const staticLoop = core && !def.placeholder ? join(MCU_DIR, "bare", "static_loop.c") : null;
  // The bare profile leaves the backend, ario__try_io and ario_now to the
  // firmware: the test harness's (tests/mcu/bare/pipe_dev.c) stands in for
  // them in the stack estimate only (not archived, not counted in sizes).
  const harness = core && !def.placeholder && args.profile === "bare" && !args.srcs.length
    ? join(ROOT, "tests", "mcu", "bare", "pipe_dev.c")
    : null;
  const all = [...srcs, ...(staticLoop ? [staticLoop] : []), ...(harness ? [harness] : [])];
  const results = await pool(
    all,
    navigator.hardwareConcurrency || 2,
    (s) =>
      compile(
        tc,
        s,
        objDir,
        s === staticLoop
          ? [...flags, `-DARIO_MCU_ENTRIES=${args.entries}`]
          : s === harness
          ? [...flags, "-I", join(ROOT, PRIVATE_INCLUDE), "-I", join(ROOT, "tests", "mcu", "bare")]
          : flags,
      ),
  );
  let ok = true;
  for (const r of results) {
    if (r.log) console.error(r.log.split("\n").map((l) => `   ${l}`).join("\n"));
    if (!r.ok) {
      ok = false;
      console.error(
        `cross: ${t.name}: compile failed: ${relative(ROOT, r.obj.src)}\n   ${r.cmd.join(" ")}`,
      );
    }
  }
  if (!ok) return false;
  const lib = join(out, "libario.a");
  await archive(
    tc,
    lib,
    results.filter((r) => r.obj.src !== staticLoop && r.obj.src !== harness).map((r) => r.obj.obj),
  );
  const copied: string[] = [];
  for (const h of headers) {
    const dst = join(out, h.split("/").pop()!);
    await Deno.copyFile(h, dst);
    copied.push(relative(ROOT, dst));
  }

  // sizes, externals, heap check, stack
  const allObjs = await Promise.all(results.map(async (r) => {
    if (exists(r.obj.su)) {
      return { r, elf: await readElf(r.obj.obj), su: parseSu(await Deno.readTextFile(r.obj.su)) };
    }
    // no .su (llc-22): the frames LLVM wrote into .stack_sizes sections
    const bytes = await Deno.readFile(r.obj.obj);
    const elf = parseElf(bytes, r.obj.obj);
    const ss = stackSizes(elf, bytes);
    return { r, elf, su: ss.size ? ss : null };
  }));
  const objs = allObjs.filter((o) => o.r.obj.src !== harness);
  const total: Sizes = { text: 0, data: 0, bss: 0, code: 0, rodata: 0 };
  const perObj: Record<string, Sizes> = {};
  const defined = new Set<string>();
  const undef = new Set<string>();
  for (const o of objs) {
    const s = sectionSizes(o.elf);
    perObj[relative(ROOT, o.r.obj.src)] = s;
    for (const k of Object.keys(total) as (keyof Sizes)[]) total[k] += s[k];
    for (const sym of o.elf.symbols) {
      if (!sym.name || sym.index === 0) continue;
      if (sym.shndx === SHN_UNDEF) undef.add(sym.name);
      else if (sym.bind !== STB_LOCAL) defined.add(sym.name);
    }
  }
  const externals = [...undef].filter((s) => !defined.has(s)).sort();
  const heap = externals.filter((s) => HEAP_SYMBOLS.includes(s));
  const indirect = indirectCallsOf(
    await Promise.all(srcs.map((s) => Deno.readTextFile(s))),
    await Deno.readTextFile(join(ROOT, "csrc", "ario_internal.h")),
  );
  const stack = analyzeStack(allObjs.map((o) => ({ elf: o.elf, su: o.su })), indirect);
  const tool = await toolSize(tc, lib);
  const loopObj = staticLoop ? perObj[relative(ROOT, staticLoop)] : null;
  const libTotal: Sizes = { ...total };
  if (loopObj) {
    for (const k of Object.keys(libTotal) as (keyof Sizes)[]) {
      libTotal[k] -= loopObj[k];
    }
  }

  const report: BuildReport = {
    target: t.name,
    description: t.description,
    toolchain: tc.label,
    flags: [...tc.cc.slice(1), ...flags],
    placeholder: def.placeholder && !args.srcs.length,
    sources: srcs.map((s) => relative(ROOT, s)),
    library: relative(ROOT, lib),
    headers: copied,
    size: {
      total,
      objects: perObj,
      tool,
      library: libTotal,
      staticLoop: loopObj ? { entries: args.entries, bytes: loopObj.data + loopObj.bss } : null,
    },
    profile: args.profile,
    externals,
    zeroHeap: { ok: heap.length === 0, heapSymbols: heap },
    stack,
  };
  await Deno.writeTextFile(join(out, "size.json"), JSON.stringify(report, null, 2) + "\n");

  const rows = [["object", "text", "(code", "rodata)", "data", "bss"]];
  for (const [name, s] of Object.entries(perObj)) {
    rows.push([name, `${s.text}`, `${s.code}`, `${s.rodata}`, `${s.data}`, `${s.bss}`]);
  }
  rows.push([
    "TOTAL",
    `${total.text}`,
    `${total.code}`,
    `${total.rodata}`,
    `${total.data}`,
    `${total.bss}`,
  ]);
  console.log(`   library: ${relative(ROOT, lib)}  (+ ${copied.length} header(s), size.json)`);
  console.log(fmtTable(rows, [1, 2, 3, 4, 5]));
  if (tool) {
    const agree = tool.text === libTotal.text && tool.data === libTotal.data &&
      tool.bss === libTotal.bss;
    console.log(
      `   cross-check ${
        tool.name.split("/").pop()
      } -B -t: text=${tool.text} data=${tool.data} bss=${tool.bss}${
        agree ? " (agrees)" : " (differs: see docs/mcu-harness.md)"
      }`,
    );
  }
  if (loopObj) {
    console.log(
      `   static state: ${libTotal.data + libTotal.bss} B in the library + ${
        loopObj.data + loopObj.bss
      } B loop memory for ${args.entries} entries (ARIO_LOOP_STATIC) = ${
        total.data + total.bss
      } B .data+.bss`,
    );
  }
  console.log(`   external symbols: ${externals.length ? externals.join(", ") : "(none)"}`);
  console.log(
    heap.length
      ? `   zero-heap: FAIL, references ${heap.join(", ")}`
      : "   zero-heap: OK (no malloc/calloc/realloc/free)",
  );
  console.log(
    "   stack, worst case in bytes (own frame + deepest static call chain, calls through the " +
      "backend table included; externals count 0):",
  );
  if (harness) {
    console.log(
      "   (with the test harness's backend, tests/mcu/bare/pipe_dev.c, standing in for the firmware's)",
    );
  }
  const srows = [["function", "frame", "worst", "deepest path", "notes"]];
  for (const f of stack.functions) {
    const notes = [
      f.bounded ? "" : "UNBOUNDED",
      f.externals.length ? `ext: ${f.externals.join(",")}` : "",
      ...f.notes.filter((n) => !n.startsWith("no stack-usage")),
      f.frame === null ? "no .su entry" : "",
    ].filter(Boolean).join("; ");
    srows.push([
      f.name,
      f.frame === null ? "?" : `${f.frame}`,
      `${f.worst}`,
      f.path.join(" > "),
      notes,
    ]);
  }
  if (srows.length > 1) console.log(fmtTable(srows, [1, 2]));
  if (stack.maxPublic) {
    console.log(
      `   max over public functions: ${stack.maxPublic.worst} bytes (${stack.maxPublic.name})`,
    );
  }
  if (heap.length) {
    console.error(`cross: ${t.name}: the library references heap functions: ${heap.join(", ")}`);
    return false;
  }
  if (t.name === "xtensa-esp32") {
    const abi = await windowedAbi(objs.filter((o) => o.r.obj.src !== staticLoop).map((o) => o.elf));
    console.log(`   windowed ABI: ${abi.text}`);
    report.abi = abi;
    await Deno.writeTextFile(join(out, "size.json"), JSON.stringify(report, null, 2) + "\n");
    if (!abi.ok) {
      console.error(`cross: ${t.name}: the objects are not windowed-ABI code`);
      return false;
    }
  }
  return true;
}

/** ESP32 (LX6) code must use the windowed register ABI: every function
 * opens with ENTRY a1, N (its frame; byte 0x36, then s = a1), returns with
 * RETW(.N) and calls with CALL8/CALLX8, never CALL0/CALLX0/RET (the call0
 * ABI of the lx106). The ENTRY check reads each function's first bytes from
 * the object itself, and compares N with the frame LLVM recorded in
 * .stack_sizes. The instruction counts come from llvm-objdump-22, which is
 * unreliable on this target (it loses sync in literal pools placed in text
 * sections and sometimes crashes: seen here), so they are printed, and only
 * a CALL0/CALLX0/RET it does decode fails the check. */
async function windowedAbi(
  elfs: ReturnType<typeof parseElf>[],
): Promise<NonNullable<BuildReport["abi"]>> {
  const objdump = which("llvm-objdump-22") ?? which("llvm-objdump");
  const c = { functions: 0, entry: 0, retw: 0, call8: 0, call0: 0, ret: 0 };
  let framesAgree = 0, framesKnown = 0;
  const bad: string[] = [];
  for (const e of elfs) {
    const bytes = await Deno.readFile(e.path);
    const frames = stackSizes(e, bytes);
    for (const y of e.symbols) {
      if (y.type !== STT_FUNC || y.shndx === SHN_UNDEF || y.shndx >= 0xff00) continue;
      c.functions++;
      const sec = e.sections[y.shndx];
      const o = sec.offset + y.value;
      if (bytes[o] === 0x36 && (bytes[o + 1] & 0x0f) === 0x01) {
        c.entry++;
        const frame = (((bytes[o + 1] >> 4) | (bytes[o + 2] << 4)) & 0xfff) * 8;
        const f = frames.get(y.name);
        if (f) {
          framesKnown++;
          if (f.bytes === frame) framesAgree++;
        }
      } else bad.push(y.name);
    }
    if (!objdump) continue;
    const r = await run([objdump, "-d", "--no-show-raw-insn", "--mcpu=esp32", e.path]);
    for (const line of r.stdout.split("\n")) {
      const m = /^\s*[0-9a-f]+:\s+([a-z0-9.]+)/.exec(line);
      if (!m) continue;
      const op = m[1];
      if (op === "retw" || op === "retw.n") c.retw++;
      else if (op === "call8" || op === "callx8") c.call8++;
      else if (op === "call0" || op === "callx0") c.call0++;
      else if (op === "ret" || op === "ret.n") c.ret++;
    }
  }
  const ok = bad.length === 0 && c.call0 === 0 && c.ret === 0;
  return {
    ok,
    ...c,
    text: `${c.entry}/${c.functions} functions open with ENTRY a1 (frames = .stack_sizes for ` +
      `${framesAgree}/${framesKnown})${bad.length ? `, not: ${bad.join(", ")}` : ""}; ` +
      (objdump
        ? `disassembly (${objdump.split("/").pop()}, best effort): ${c.retw} retw/retw.n, ` +
          `${c.call8} call8/callx8, ${c.call0} call0/callx0, ${c.ret} ret/ret.n`
        : "no disassembly (llvm-objdump-22 missing: apt-get install llvm-22)") +
      `: ${ok ? "OK" : "FAIL"}`,
  };
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(Deno.args);
  } catch (e) {
    console.error(`cross: ${(e as Error).message}\n${usage()}`);
    return 2;
  }
  if (args.help) {
    console.log(usage());
    return 0;
  }
  if (args.list) {
    await list();
    if (args.targets.length === 0) return 0;
  }
  if (args.targets.length === 0) {
    console.error(`cross: --target is required\n${usage()}`);
    return 2;
  }
  const all = args.targets.includes("all");
  const wanted = all ? TARGETS : args.targets.map((n) => findTarget(n) ?? n);
  let failed = false;
  for (const t of wanted) {
    if (typeof t === "string") {
      console.error(`cross: unknown target '${t}'\n${usage()}`);
      return 2;
    }
    const tc = await t.detect();
    if (!tc) {
      const msg = `cross: ${t.name}: no toolchain found; install ${t.install}`;
      if (all) {
        console.log(`== ${t.name}: skipped, ${msg.replace(/^cross: [^:]+: /, "")}`);
        continue;
      }
      console.error(msg);
      return 2;
    }
    if (!(await buildTarget(t, tc, args))) failed = true;
  }
  return failed ? 1 : 0;
}

Deno.exit(await main());
