/**
 * The build facts of the C library, in one place: which sources each build
 * profile compiles, with which defines, include folders and warnings, and
 * which backends it has. scripts/build.ts, scripts/cross.ts (through
 * scripts/mcu/targets.ts) and scripts/bench.ts import it; the shell scripts
 * read it as bash arrays:
 *
 *   eval "$(deno run -A scripts/csrc.ts sh host)"   # csrc_sources csrc_cflags ...
 *   deno run -A scripts/csrc.ts check               # csrc/idf/CMakeLists.txt agrees
 *
 * Which backend a build picks and offers is decided in C (csrc/platform.h);
 * `backends` here names the ones the test scripts run on (ARIO_BACKEND).
 */
import { fileURLToPath } from "node:url";

/** The checkout, with a trailing slash (fileURLToPath decodes "%20"). */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));

/** Public header folder (csrc/include/ario.h: the ABI for Deno and firmware). */
export const PUBLIC_INCLUDE = "csrc/include";
/** Private header folder: what the core, the backends and the C tests share. */
export const PRIVATE_INCLUDE = "csrc";
/** Both include folders, public first. */
export const INCLUDE_DIRS: readonly string[] = [PUBLIC_INCLUDE, PRIVATE_INCLUDE];

/** Warnings the library builds clean with, everywhere. */
export const WARNINGS: readonly string[] = ["-Wall", "-Wextra", "-Werror"];

/** Operating systems of a host build, as Deno names them. */
export type HostOs = "linux" | "darwin" | "windows";

/** One way of building the library. */
export interface Profile {
  /** What the profile is for. */
  about: string;
  /** Repository-relative sources, core first, then backends. */
  sources: readonly string[];
  /** C language standard, or none: the compiler's default (MCU cross builds). */
  std?: string;
  /** Preprocessor definitions (NAME or NAME=VALUE, without -D). */
  defines: readonly string[];
  /** Backends the profile has (the ARIO_BACKEND names), per host OS for `host`. */
  backends: readonly string[] | Readonly<Record<HostOs, readonly string[]>>;
}

/** The portable core plus the socket layer every OS profile compiles. */
const CORE = [
  "csrc/ario.c",
  "csrc/backends.c",
  "csrc/validate.c",
  "csrc/bufring.c",
  "csrc/ops.c",
  "csrc/sock.c",
  "csrc/bell.c",
];

/** Every .c file of `dir`, sorted (host builds compile them all: each backend
 * file compiles to nothing where platform.h does not offer it). */
function cFiles(dir: string): string[] {
  return [...Deno.readDirSync(`${ROOT}${dir}`)]
    .filter((e) => e.isFile && e.name.endsWith(".c"))
    .map((e) => `${dir}/${e.name}`)
    .sort();
}

/** The build profiles, by name. */
export const PROFILES = {
  host: {
    about: "the Deno library and the C tests: Linux, macOS, Windows",
    sources: [...cFiles("csrc"), ...cFiles("csrc/backend")],
    std: "c11",
    defines: ["_GNU_SOURCE"],
    backends: {
      linux: ["io_uring", "epoll", "poll", "select"],
      darwin: ["kqueue", "poll", "select"],
      windows: ["windows"],
    },
  },
  lwip: {
    about: "lwIP / ESP-IDF sockets with the select backend (csrc/idf/CMakeLists.txt)",
    sources: [...CORE, "csrc/backend/select.c"],
    defines: ["ARIO_LWIP=1"],
    backends: ["select"],
  },
  lwip_poll: {
    about: "lwIP built without select (Debian's unix port): lwip_poll",
    sources: [...CORE, "csrc/backend/lwip_poll.c"],
    defines: ["ARIO_LWIP=1", "ARIO_LWIP_POLL=1"],
    backends: ["poll"],
  },
  bare: {
    about: "no OS: the core alone; firmware or the MCU harness supplies the backend",
    sources: ["csrc/ario.c", "csrc/backends.c", "csrc/validate.c", "csrc/bufring.c"],
    defines: ["ARIO_BARE=1"],
    backends: ["select"],
  },
} as const satisfies Record<string, Profile>;

/** A profile's name. */
export type ProfileName = keyof typeof PROFILES;

/** Whether `name` is a profile. */
export function isProfile(name: string): name is ProfileName {
  return Object.hasOwn(PROFILES, name);
}

/** -std and -D flags of a profile. */
export function languageFlags(name: ProfileName): string[] {
  const p: Profile = PROFILES[name];
  return [...(p.std ? [`-std=${p.std}`] : []), ...p.defines.map((d) => `-D${d}`)];
}

/** The backends of a profile, for host builds on `os`. */
export function backends(name: ProfileName, os: HostOs = "linux"): readonly string[] {
  const b: Profile["backends"] = PROFILES[name].backends;
  return Array.isArray(b) ? b : (b as Record<HostOs, readonly string[]>)[os];
}

/** The lwIP profile's sources as csrc/idf/CMakeLists.txt lists them (CMake
 * cannot read this file), or the difference. */
export function checkIdfComponent(): string | null {
  const cmake = Deno.readTextFileSync(`${ROOT}csrc/idf/CMakeLists.txt`);
  const listed = [...cmake.matchAll(/"\$\{ARIO_CSRC\}\/([^"]+\.c)"/g)].map((m) => `csrc/${m[1]}`);
  const want = PROFILES.lwip.sources;
  return listed.join(" ") === want.join(" ")
    ? null
    : `csrc/idf/CMakeLists.txt SRCS are ${listed.join(" ")}; the lwip profile has ${
      want.join(" ")
    }`;
}

/** Bash-quotes one word. */
function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The facts of one profile as bash array assignments, absolute paths. */
export function shellFacts(name: ProfileName, os: HostOs = "linux"): string {
  const arr = (v: string, words: readonly string[]) => `${v}=(${words.map(quote).join(" ")})`;
  const includes = INCLUDE_DIRS.map((d) => `-I${ROOT}${d}`);
  return [
    arr("csrc_sources", PROFILES[name].sources.map((s) => `${ROOT}${s}`)),
    arr("csrc_lang", languageFlags(name)),
    arr("csrc_warnings", WARNINGS),
    arr("csrc_includes", includes),
    arr("csrc_public_include", [`-I${ROOT}${PUBLIC_INCLUDE}`]),
    // the usual compile: language, warnings, includes (optimisation is the caller's)
    arr("csrc_cflags", [...languageFlags(name), ...WARNINGS, ...includes]),
    arr("csrc_backends", backends(name, os)),
  ].join("\n");
}

if (import.meta.main) {
  const [cmd, name = "", os = "linux"] = Deno.args;
  if (cmd === "sh" && isProfile(name) && ["linux", "darwin", "windows"].includes(os)) {
    console.log(shellFacts(name, os as HostOs));
  } else if (cmd === "check") {
    const bad = checkIdfComponent();
    if (bad) {
      console.error(`csrc: ${bad}`);
      Deno.exit(1);
    }
  } else {
    console.error(
      `usage: deno run -A scripts/csrc.ts sh <${
        Object.keys(PROFILES).join("|")
      }> [linux|darwin|windows]\n` +
        `       deno run -A scripts/csrc.ts check`,
    );
    Deno.exit(2);
  }
}
