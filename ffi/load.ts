/**
 * Finds and opens libario: the `ARIO_LIB` environment variable first, then
 * the library built beside this module (`deno task build`).
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

let lib: Symbols | undefined;

/** Opens the library once; later calls return the same symbols. */
export function load(): Symbols {
  if (lib) return lib;
  const override = Deno.env.get("ARIO_LIB");
  const local = localLibraryPath();
  const path = override ?? (local.protocol === "file:" ? local : undefined);
  if (!path) {
    throw new Error(
      `Cannot load libario: this module was imported from ${local.protocol} and ARIO_LIB is not set; point ARIO_LIB at a built library`,
    );
  }
  try {
    lib = Deno.dlopen(path, symbols).symbols;
  } catch (cause) {
    const where = override ? `ARIO_LIB=${override}` : local.pathname;
    throw new Error(
      `Cannot load libario from ${where}: ${
        (cause as Error).message
      }. Build it with "deno task build", or set ARIO_LIB to its path`,
      { cause },
    );
  }
  return lib;
}
