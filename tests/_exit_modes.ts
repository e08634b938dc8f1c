// Exit and terminate modes, shared by tests/exit_test.ts (200 runs per mode
// in CI) and scripts/exit-loop.ts (10 000): each mode is a minimal child
// program that ends the process one way while ario has work in flight, and
// a check of how it ended. A crash is a signal (SIGSEGV, SIGABRT), an exit
// status other than the mode's, or a missing "error: Uncaught" where Deno
// must print one.

const mod = new URL("../mod.ts", import.meta.url).href;

/** One way to end a process with ops in flight. */
export interface ExitMode {
  /** The child program (ESM, imports ario as `ario`). */
  code: string;
  /** Exit status the child must end with. */
  status: number;
  /** Signal the child must end by instead of an exit status. */
  signal?: Deno.Signal;
  /** Output the child must print (stdout + stderr). */
  expect?: RegExp;
  /** Sends the signal once the child printed "ready". */
  kill?: Deno.Signal;
}

const head = `import * as ario from "${mod}";\n`;
// In flight while the process ends: a recv that never completes (ref'd),
// an unref'd 60 s timeout, and a 1 ms interval that keeps the doorbell
// ringing.
const inflight = `
const rx = ario.sharedReactor();
const [a, b] = ario.UnixStream.pair();
a.read(new Uint8Array(16)).catch(() => {});
rx.timeout(60_000_000_000, { ref: false }).catch(() => {});
`;
const busy = `${inflight}
(async () => { for await (const _ of ario.Timer.interval(1)) {} })();
await ario.Timer.after(2 + Math.random() * 3);
`;
// end either from a callback (JS idle: the doorbell may be ringing into it)
// or after a busy spell (the doorbell is blocked inside its callback)
const spell =
  `if (Math.random() < 0.5) { const t = performance.now(); while (performance.now() - t < 3 * Math.random()) {} }`;

/** The modes, by name. */
export const MODES: Record<string, ExitMode> = {
  // the ref'd ops complete or close; unref'd ones stay in C: the process ends by itself
  natural: {
    code: `
const rx = ario.sharedReactor();
rx.timeout(60_000_000_000, { ref: false }).catch(() => {});
new ario.Timer({ ref: false }).setAfter(60_000).then(() => console.log("fired"));
const [a, b] = ario.UnixStream.pair();
const got = a.read(new Uint8Array(16)).catch(() => -1);
let n = 0;
for await (const _ of ario.Timer.interval(1)) if (++n === 3) break;
${spell}
if (Math.random() < 0.5) await b.write(new Uint8Array(4)); else b.close();
await got;
a.close();
try { b.close(); } catch { /* closed */ }
console.log("end");
`,
    status: 0,
    expect: /^end\n$/,
  },
  exit: {
    code: `${busy}${spell}\nDeno.exit(3);\n`,
    status: 3,
  },
  uncaught: {
    code: `${busy}
setTimeout(() => { ${spell}; throw new Error("boom"); }, Math.random() * 3);
`,
    status: 1,
    expect: /error: Uncaught \(?.*boom/,
  },
  rejection: {
    code: `${busy}
setTimeout(() => { ${spell}; Promise.reject(new Error("boom")); }, Math.random() * 3);
`,
    status: 1,
    expect: /error: Uncaught \(in promise\).*boom/,
  },
  // SIGTERM / SIGINT with no listener: the default action ends the process
  sigterm: {
    code: `${busy}console.log("ready");\n`,
    status: 143,
    signal: "SIGTERM",
    kill: "SIGTERM",
  },
  sigint: {
    code: `${busy}console.log("ready");\n`,
    status: 130,
    signal: "SIGINT",
    kill: "SIGINT",
  },
};

/** How one run ended, and why it counts as a crash (undefined: it did not). */
export interface RunResult {
  code: number;
  signal: Deno.Signal | null;
  out: string;
  crash?: string;
}

const files = new Map<string, string>();

function fileFor(name: string): string {
  let f = files.get(name);
  if (f === undefined) {
    f = Deno.makeTempFileSync({ prefix: `ario-exit-${name}-`, suffix: ".ts" });
    Deno.writeTextFileSync(f, head + MODES[name].code);
    files.set(name, f);
  }
  return f;
}

/** Runs one child of `name` on `backend` and classifies how it ended. */
export async function runMode(name: string, backend?: string): Promise<RunResult> {
  const mode = MODES[name];
  const env: Record<string, string> = { NO_COLOR: "1" };
  if (backend) env.ARIO_BACKEND = backend;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", fileFor(name)],
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  let out = "";
  const dec = new TextDecoder();
  const readOut = (async () => {
    for await (const chunk of child.stdout) {
      out += dec.decode(chunk, { stream: true });
      if (mode.kill && out.includes("ready")) {
        try {
          child.kill(mode.kill);
        } catch { /* already gone */ }
      }
    }
  })();
  const readErr = new Response(child.stderr).text();
  const status = await child.status;
  await readOut;
  out += await readErr;
  clearTimeout(killer);
  const r: RunResult = { code: status.code, signal: status.signal, out };
  if (status.signal !== null && status.signal !== mode.signal) {
    r.crash = `killed by ${status.signal}`;
  } else if (mode.signal === undefined && status.code !== mode.status) {
    r.crash = `exit status ${status.code}, want ${mode.status}`;
  } else if (mode.expect && !mode.expect.test(out)) {
    r.crash = `output does not match ${mode.expect}`;
  }
  return r;
}

/** Workers that run ario and end with terminate() or self.close(), in one process. */
export function workerProgram(count: number, end: "terminate" | "close"): string {
  const worker = `${head}
const rx = ario.sharedReactor();
rx.timeout(60_000_000_000, { ref: false }).catch(() => {});
ario.Timer.after(300).then(() => {});
(async () => { for await (const _ of ario.Timer.interval(1)) {} })();
await ario.Timer.after(Math.random() * 2);
postMessage("ready");
${end === "close" ? "setTimeout(() => self.close(), Math.random() * 3);" : ""}
`;
  return `
const src = URL.createObjectURL(new Blob([${JSON.stringify(worker)}], { type: "text/javascript" }));
let alive = 0;
for (let i = 0; i < ${count}; i++) {
  const w = new Worker(src, { type: "module" });
  await new Promise((r) => w.onmessage = r);
  ${
    end === "terminate"
      ? "await new Promise((r) => setTimeout(r, Math.random() * 3)); w.terminate();"
      : "alive++;"
  }
}
await new Promise((r) => setTimeout(r, 500)); // every Timer.after(300) fires into a gone isolate
console.log("workers ok", alive);
`;
}

/** Runs a worker program (see {@linkcode workerProgram}); a crash kills the whole process. */
export async function runWorkers(
  count: number,
  end: "terminate" | "close",
  backend?: string,
): Promise<RunResult> {
  const f = Deno.makeTempFileSync({ prefix: `ario-workers-${end}-`, suffix: ".ts" });
  Deno.writeTextFileSync(f, workerProgram(count, end));
  const env: Record<string, string> = { NO_COLOR: "1" };
  if (backend) env.ARIO_BACKEND = backend;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", f],
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const r0 = await child.output();
  clearTimeout(killer);
  Deno.removeSync(f);
  const dec = new TextDecoder();
  const out = dec.decode(r0.stdout) + dec.decode(r0.stderr);
  const r: RunResult = { code: r0.code, signal: r0.signal, out };
  if (r0.signal !== null) r.crash = `killed by ${r0.signal}`;
  else if (r0.code !== 0) r.crash = `exit status ${r0.code}`;
  else if (!/workers ok/.test(out)) r.crash = "did not finish";
  return r;
}

/** Runs `runs` children of each mode, `parallel` at a time; returns the crashes by mode. */
export async function loop(
  names: string[],
  runs: number,
  parallel: number,
  backend?: string,
  onCrash?: (name: string, r: RunResult) => void,
): Promise<Record<string, number>> {
  const crashes: Record<string, number> = {};
  const jobs: string[] = [];
  for (let i = 0; i < runs; i++) for (const n of names) jobs.push(n);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const name = jobs[next++];
      const r = await runMode(name, backend);
      crashes[name] ??= 0;
      if (r.crash) {
        crashes[name]++;
        onCrash?.(name, r);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return crashes;
}

/** Removes the temp files of the child programs. */
export function cleanup(): void {
  for (const f of files.values()) Deno.removeSync(f);
  files.clear();
}
