/**
 * A TCP connect scanner: hundreds of connects in flight at once, each
 * bounded by a linked timeout in the C loop. Prints one line per open port
 * ("open 22"), then a summary line ("scanned N ports in T ms: K open").
 *
 *   deno run --allow-ffi --allow-env --allow-read examples/port_scan.ts --host 127.0.0.1 --ports 1-1024
 *
 * Flags: --host (default 127.0.0.1), --ports "A-B,C,..." (default 1-1024),
 * --concurrency (default 500), --timeout ms per connect (default 500),
 * --json (print the open ports as one JSON array instead).
 */
import { Cli } from "./_cli.ts";
import { TcpStream } from "../mod.ts";

const cli = new Cli(
  "port_scan",
  `
usage: port_scan [--host H] [--ports SPEC] [--concurrency N] [--timeout ms] [--json]

  --host H          address to scan (default 127.0.0.1)
  --ports SPEC      ports, "A-B,C,..." (default 1-1024)
  --concurrency N   connects in flight at once, 1..65535 (default 500)
  --timeout ms      per connect (default 500)
  --json            print the open ports as one JSON array
`,
  {
    host: { type: "string", default: "127.0.0.1" },
    ports: { type: "string", default: "1-1024" },
    concurrency: { type: "string", default: "500" },
    timeout: { type: "string", default: "500" },
    json: { type: "boolean", default: false },
  },
);
const values = { host: cli.string("host")!, json: cli.flag("json") };
const concurrency = cli.number("concurrency", { min: 1, max: 65535 })!;
const timeout = cli.number("timeout", { min: 1, fraction: true })!;

function parsePorts(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(",")) {
    const [a, b = a, ...rest] = part.split("-").map((x) => /^[0-9]+$/.test(x) ? Number(x) : NaN);
    if (!(a >= 1 && b <= 65535 && a <= b) || rest.length) {
      cli.fail(`--ports: "${part}" is not a port or range in 1..65535`);
    }
    for (let p = a; p <= b; p++) out.push(p);
  }
  return out;
}

const ports = parsePorts(cli.string("ports")!);
const open: number[] = [];
let next = 0;
const t0 = performance.now();

async function worker(): Promise<void> {
  while (next < ports.length) {
    const port = ports[next++];
    try {
      const conn = await TcpStream.connect({ hostname: values.host, port }, { timeout });
      conn.close();
      open.push(port);
      if (!values.json) console.log(`open ${port}`);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== "ECONNREFUSED" && code !== "ETIMEDOUT" && code !== "EHOSTUNREACH") {
        console.error(`port ${port}: ${(e as Error).message}`);
      }
    }
  }
}

await cli.run(async () => {
  await Promise.all(Array.from({ length: Math.min(concurrency, ports.length) }, worker));
});
open.sort((a, b) => a - b);
if (values.json) console.log(JSON.stringify(open));
else {console.log(
    `scanned ${ports.length} ports in ${
      Math.round(performance.now() - t0)
    } ms: ${open.length} open`,
  );}
