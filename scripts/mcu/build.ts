// Compiling for an MCU target: one object (+ .su) per source, and archiving.
import { basename, join, relative } from "./path.ts";
import { exists, ROOT, run, type Toolchain } from "./targets.ts";

export interface CompiledObject {
  src: string;
  obj: string;
  su: string;
}

/** Unique object name per source path (csrc/backend/select.c -> csrc_backend_select). */
export function objName(src: string): string {
  const rel = relative(ROOT, src);
  const base = rel.startsWith("..") ? basename(src) : rel;
  return base.replace(/\.[^.]+$/, "").replace(/[^A-Za-z0-9_]+/g, "_");
}

export async function compile(
  tc: Toolchain,
  src: string,
  outDir: string,
  flags: string[],
): Promise<{ ok: boolean; obj: CompiledObject; log: string; cmd: string[] }> {
  const stem = objName(src);
  const obj = join(outDir, `${stem}.o`);
  const su = join(outDir, `${stem}.su`);
  await Deno.remove(su).catch(() => {});
  const asm = /\.[sS]$/.test(src); // assembler: no stack-usage flags (clang's cc1as rejects them)
  const cmd = [...tc.cc, ...flags, ...(asm ? [] : tc.suFlags(su)), "-c", src, "-o", obj];
  let r = await run(cmd, { cwd: ROOT });
  if (r.code === 0 && !asm && tc.kind === "zig" && !exists(su)) {
    // zig cc served the object from its cache and wrote no .su: once more
    // with an empty cache
    const cache = await Deno.makeTempDir({ prefix: "ario-zig-cache-" });
    try {
      r = await run(cmd, {
        cwd: ROOT,
        env: { ZIG_GLOBAL_CACHE_DIR: cache, ZIG_LOCAL_CACHE_DIR: cache },
      });
    } finally {
      await Deno.remove(cache, { recursive: true }).catch(() => {});
    }
  }
  return { ok: r.code === 0, obj: { src, obj, su }, log: (r.stdout + r.stderr).trim(), cmd };
}

export async function archive(tc: Toolchain, lib: string, objs: string[]): Promise<void> {
  await Deno.remove(lib).catch(() => {});
  const r = await run([...tc.ar, "rcs", lib, ...objs], { cwd: ROOT });
  if (r.code !== 0) throw new Error(`archiver failed: ${r.stderr}`);
}

/** Runs up to `limit` async jobs at once, keeping result order. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
