/**
 * Finds and opens libario, in this order: the `ARIO_LIB` environment
 * variable; the library built beside this module (`deno task build`, a
 * checkout); the library embedded in the package for this platform
 * (`ffi/bin/<os>-<arch>.ts`, made by `scripts/embed.ts` for JSR), checked
 * against its SHA-256 and written once to a cache directory
 * (`ARIO_CACHE`, else the user's cache directory) under its hash.
 *
 * @module
 */
import { type Symbols, symbols } from "./symbols.ts";

/** File name of the shared library on this OS. */
export function libraryFileName(os: typeof Deno.build.os = Deno.build.os): string {
  return os === "windows" ? "ario.dll" : os === "darwin" ? "libario.dylib" : "libario.so";
}

/** Where `deno task build` puts the library for this OS and CPU. */
export function localLibraryPath(): URL {
  return new URL(
    `../build/lib/${Deno.build.os}-${Deno.build.arch}/${libraryFileName()}`,
    import.meta.url,
  );
}

function isFile(url: URL): boolean {
  if (url.protocol !== "file:") return false;
  try {
    return Deno.statSync(url).isFile;
  } catch {
    return false;
  }
}

function cacheRoot(): string {
  const env = (k: string) => Deno.env.get(k);
  const base = env("ARIO_CACHE") ??
    (Deno.build.os === "windows"
      ? `${env("LOCALAPPDATA") ?? env("TEMP")}\\ario`
      : Deno.build.os === "darwin"
      ? `${env("HOME")}/Library/Caches/ario`
      : `${env("XDG_CACHE_HOME") ?? `${env("HOME")}/.cache`}/ario`);
  return base;
}

/** Writes the embedded library for this platform to the cache (once); its path, or why not. */
async function extractEmbedded(): Promise<{ path?: string; why?: string }> {
  const key = `${Deno.build.os}-${Deno.build.arch}`;
  let mod: { sha256: string; base64: string };
  try {
    mod = await import(`./bin/${key}.ts`);
  } catch {
    return { why: `the package embeds no library for ${key}` };
  }
  const dir = `${cacheRoot()}/${mod.sha256.slice(0, 16)}`;
  const path = `${dir}/${libraryFileName()}`;
  try {
    if (Deno.statSync(path).isFile) return { path };
  } catch { /* not cached yet */ }
  const bytes = Uint8Array.fromBase64(mod.base64);
  const sha = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  if (sha !== mod.sha256) return { why: `the embedded library for ${key} fails its SHA-256 check` };
  // temp file + rename: concurrent first runs never see a half-written library
  Deno.mkdirSync(dir, { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  Deno.writeFileSync(tmp, bytes, { mode: 0o755 });
  Deno.renameSync(tmp, path);
  return { path };
}

const local = localLibraryPath();
const override = Deno.env.get("ARIO_LIB");
const embedded = override || isFile(local) ? {} : await extractEmbedded();

let lib: Symbols | undefined;

/** Opens the library once; later calls return the same symbols. */
export function load(): Symbols {
  if (lib) return lib;
  const path = override ?? (isFile(local) ? local : embedded.path);
  if (!path) {
    throw new Error(
      `Cannot load libario: ${embedded.why}; build it ("deno task build" in a checkout) or set ARIO_LIB to its path`,
    );
  }
  try {
    lib = Deno.dlopen(path, symbols).symbols;
  } catch (cause) {
    const where = override ? `ARIO_LIB=${override}` : path instanceof URL ? path.pathname : path;
    throw new Error(
      `Cannot load libario from ${where}: ${
        (cause as Error).message
      }. Build it with "deno task build", or set ARIO_LIB to its path`,
      { cause },
    );
  }
  return lib;
}
