/**
 * Finds and opens libario at first use ({@linkcode load}), in this order:
 * the `ARIO_LIB` environment variable (read only when `--allow-env` grants
 * it); the library built beside this module (`deno task build`, a file:
 * checkout); the library embedded in the package for this platform
 * (`ffi/bin/<os>-<arch>.ts`, made by `scripts/embed.ts` for JSR), checked
 * against its SHA-256 and written once to a cache directory (`ARIO_CACHE`,
 * else the user's cache directory) under its hash.
 *
 * Importing this module needs no permission: the per-target module is a
 * module of the same package, imported through a literal specifier (so
 * `deno cache` and `deno info` see it); the environment, the file system and
 * `dlopen` are touched only by `load()`.
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

/** An embedded library module (`ffi/bin/<os>-<arch>.ts`). */
interface Embedded {
  sha256: string;
  base64: string;
}

const key = `${Deno.build.os}-${Deno.build.arch}`;
const fromCheckout = new URL(import.meta.url).protocol === "file:";

// One literal import per target: statically analysable, so `deno cache`
// fetches the module for this platform and `--cached-only` runs find it.
function importEmbedded(): Promise<Embedded> | undefined {
  switch (key) {
    case "linux-x86_64":
      return import("./bin/linux-x86_64.ts");
    case "linux-aarch64":
      return import("./bin/linux-aarch64.ts");
    case "darwin-x86_64":
      return import("./bin/darwin-x86_64.ts");
    case "darwin-aarch64":
      return import("./bin/darwin-aarch64.ts");
    case "windows-x86_64":
      return import("./bin/windows-x86_64.ts");
  }
  return undefined;
}

let embedded: Embedded | undefined;
let embeddedWhy = `the package ships no library for ${key}`;
try {
  embedded = await importEmbedded();
} catch (e) {
  embeddedWhy = fromCheckout
    ? `no library is built for ${key} (and ffi/bin/${key}.ts is not embedded)`
    : `its embedded library module ffi/bin/${key}.ts could not be imported (${
      (e as Error).message
    })`;
}

/** SHA-256 of `bytes`, hex (synchronous: `load()` is). */
export function sha256Hex(bytes: Uint8Array): string {
  const hex = (s: string) => new Uint32Array(s.trim().split(" ").map((x) => parseInt(x, 16)));
  const k = hex(
    "428a2f98 71374491 b5c0fbcf e9b5dba5 3956c25b 59f111f1 923f82a4 ab1c5ed5 " +
      "d807aa98 12835b01 243185be 550c7dc3 72be5d74 80deb1fe 9bdc06a7 c19bf174 " +
      "e49b69c1 efbe4786 0fc19dc6 240ca1cc 2de92c6f 4a7484aa 5cb0a9dc 76f988da " +
      "983e5152 a831c66d b00327c8 bf597fc7 c6e00bf3 d5a79147 06ca6351 14292967 " +
      "27b70a85 2e1b2138 4d2c6dfc 53380d13 650a7354 766a0abb 81c2c92e 92722c85 " +
      "a2bfe8a1 a81a664b c24b8b70 c76c51a3 d192e819 d6990624 f40e3585 106aa070 " +
      "19a4c116 1e376c08 2748774c 34b0bcb5 391c0cb3 4ed8aa4a 5b9cca4f 682e6ff3 " +
      "748f82ee 78a5636f 84c87814 8cc70208 90befffa a4506ceb bef9a3f7 c67178f2 ",
  );
  const h = hex("6a09e667 bb67ae85 3c6ef372 a54ff53a 510e527f 9b05688c 1f83d9ab 5be0cd19");
  const padded = new Uint8Array(((bytes.length + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bytes.length / 0x20000000));
  view.setUint32(padded.length - 4, (bytes.length << 3) >>> 0);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15], b = w[i - 2];
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] +
        w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g, g = f, f = e, e = (d + t1) | 0, d = c, c = b, b = a, a = (t1 + t2) | 0;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  return [...h].map((x) => x.toString(16).padStart(8, "0")).join("");
}

/** The message of a missing permission: which flag to add. */
class NeedsPermission extends Error {}

function isNotCapable(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
}

function granted(variable: string): boolean {
  return Deno.permissions.querySync({ name: "env", variable }).state === "granted";
}

/** An environment variable, read only if `--allow-env` grants it (no prompt). */
function optionalEnv(name: string): string | undefined {
  return granted(name) ? Deno.env.get(name) : undefined;
}

/** The cache directory of embedded libraries. */
function cacheRoot(): string {
  const set = optionalEnv("ARIO_CACHE");
  if (set) return set;
  const need = Deno.build.os === "windows"
    ? ["LOCALAPPDATA"]
    : Deno.build.os === "darwin"
    ? ["HOME"]
    : ["XDG_CACHE_HOME", "HOME"];
  const xdg = Deno.build.os === "linux" ? optionalEnv("XDG_CACHE_HOME") : undefined;
  if (xdg) return `${xdg}/ario`;
  const homeVar = need[need.length - 1];
  const home = optionalEnv(homeVar);
  if (!home && granted(homeVar)) {
    throw new Error(`$${homeVar} is not set: set ARIO_CACHE=<dir> and add --allow-env=ARIO_CACHE`);
  }
  if (!home) {
    throw new NeedsPermission(
      `the cache directory for its embedded library comes from ${
        need.map((v) => `$${v}`).join(" or ")
      }, which it may not read: add --allow-env=${need.join(",")} ` +
        `(or set ARIO_CACHE=<dir> and add --allow-env=ARIO_CACHE)`,
    );
  }
  return Deno.build.os === "windows"
    ? `${home}\\ario`
    : Deno.build.os === "darwin"
    ? `${home}/Library/Caches/ario`
    : `${home}/.cache/ario`;
}

function readIfPresent(path: string, root: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (isNotCapable(e)) {
      throw new NeedsPermission(`reading its cached library needs --allow-read=${root}`);
    }
    return undefined; // missing or unreadable: written again
  }
}

/**
 * The path of this platform's embedded library in the cache, written there
 * (temp file + rename) unless a file with the right SHA-256 already is.
 */
function extractEmbedded(mod: Embedded): string {
  const root = cacheRoot();
  const dir = `${root}/${mod.sha256.slice(0, 16)}`;
  const path = `${dir}/${libraryFileName()}`;
  const cached = readIfPresent(path, root);
  if (cached && sha256Hex(cached) === mod.sha256) return path;
  // missing, truncated or replaced: write it again from the package
  const bytes = Uint8Array.fromBase64(mod.base64);
  if (sha256Hex(bytes) !== mod.sha256) {
    throw new Error(`the embedded library for ${key} fails its SHA-256 check (a damaged package)`);
  }
  // temp file + rename: concurrent first runs never see a half-written library
  const tmp = `${path}.${Deno.pid}.tmp`;
  let created = false;
  try {
    Deno.mkdirSync(dir, { recursive: true });
    Deno.writeFileSync(tmp, bytes, { mode: 0o755 });
    created = true;
    Deno.renameSync(tmp, path);
  } catch (e) {
    if (created) {
      try {
        Deno.removeSync(tmp);
      } catch { /* already gone */ }
    }
    if (isNotCapable(e)) {
      throw new NeedsPermission(
        `writing its library to the cache needs --allow-write=${root} (and --allow-read=${root})`,
      );
    }
    throw new Error(`writing ${path}: ${(e as Error).message}`, { cause: e });
  }
  return path;
}

/** Whether `url` is a file; `undefined` when reading is not permitted. */
function isFile(url: URL): boolean | undefined {
  if (url.protocol !== "file:") return false;
  try {
    return Deno.statSync(url).isFile;
  } catch (e) {
    return isNotCapable(e) ? undefined : false;
  }
}

function open(path: string | URL, what: string): Symbols {
  try {
    return Deno.dlopen(path, symbols).symbols;
  } catch (cause) {
    const shown = path instanceof URL ? decodeURIComponent(path.pathname) : path;
    if (isNotCapable(cause)) {
      throw new Error(
        `Cannot load libario (${what}): opening it needs --allow-ffi (or --allow-ffi=${shown})`,
        {
          cause,
        },
      );
    }
    throw new Error(
      `Cannot load libario from ${what}: ${(cause as Error).message}` +
        (fromCheckout && what !== "ARIO_LIB" ? `. Rebuild it with "deno task build"` : ""),
      { cause },
    );
  }
}

let lib: Symbols | undefined;

/**
 * Opens the library once; later calls return the same symbols. Throws an
 * error that names the cause (and the permission flag to add, if one is
 * missing).
 */
export function load(): Symbols {
  if (lib) return lib;
  const override = optionalEnv("ARIO_LIB");
  if (override) return lib = open(override, `ARIO_LIB=${override}`);
  if (fromCheckout) {
    const local = localLibraryPath();
    const there = isFile(local);
    if (there) return lib = open(local, decodeURIComponent(local.pathname));
    if (there === undefined && !embedded) {
      throw new Error(
        `Cannot load libario: looking for ${
          decodeURIComponent(local.pathname)
        } needs --allow-read (or set ARIO_LIB=<path> and add --allow-env=ARIO_LIB)`,
      );
    }
  }
  if (!embedded) {
    throw new Error(
      `Cannot load libario: ${embeddedWhy}. ` +
        (fromCheckout ? `Build it with "deno task build", or set` : `Set`) +
        ` ARIO_LIB=<path of a libario> and add --allow-env=ARIO_LIB`,
    );
  }
  let path: string;
  try {
    path = extractEmbedded(embedded);
  } catch (e) {
    throw new Error(`Cannot load libario: ${(e as Error).message}`, { cause: e });
  }
  return lib = open(path, path);
}
