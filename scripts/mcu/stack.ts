// Worst-case stack usage per function: per-function frame sizes from the
// compiler's -fstack-usage (.su) files, combined along a static call graph
// derived from the relocations of the -ffunction-sections objects (a
// relocation inside function F against function G, or against the section
// that holds G, is an edge F -> G; calls to static functions are covered
// because with -ffunction-sections they cross sections and keep a
// relocation).
//
// Calls through function pointers: a caller's `be->member(...)` calls (found
// in the C source, see `indirect`) get an edge to the function stored at that
// member in every vtable object (`ario__backend_*`) among the objects; other
// indirect calls are invisible. A function that only takes another
// function's address gets a (conservative) edge. Calls through a literal
// pool in a data section (llc's Xtensa output: L32R from .rodata.*, a
// relocation there naming the callee) are followed.
//
// Limits (reported, not hidden):
//  - callees outside the library (memcpy, __udivdi3, ...) are listed as
//    "external" and add 0 bytes; their real cost is the libc's/libgcc's;
//  - recursion (a cycle) or a dynamic frame (alloca/VLA) makes the bound
//    unknown: flagged `unbounded`.

import {
  type ElfObject,
  EM_ARM,
  SHN_UNDEF,
  STB_LOCAL,
  STT_FUNC,
  STT_NOTYPE,
  STT_OBJECT,
  STT_SECTION,
  type Sym,
} from "./elf.ts";

export interface SuEntry {
  bytes: number;
  qualifier: string; // static | dynamic | dynamic,bounded
}

/** Parses a .su file. gcc: `file.c:12:5:name\t16\tstatic`, clang:
 * `file.c:12:name\t16\tstatic`. The function name is the last ':' field. */
export function parseSu(text: string): Map<string, SuEntry> {
  const m = new Map<string, SuEntry>();
  for (const line of text.split("\n")) {
    const cols = line.split("\t");
    if (cols.length < 3) continue;
    const loc = cols[0].split(":");
    const name = loc[loc.length - 1].trim();
    const bytes = Number(cols[1]);
    if (!name || !Number.isFinite(bytes)) continue;
    const prev = m.get(name);
    if (!prev || prev.bytes < bytes) m.set(name, { bytes, qualifier: cols[2].trim() });
  }
  return m;
}

interface Fn {
  key: string;
  name: string;
  objIndex: number;
  shndx: number;
  start: number;
  end: number;
  global: boolean;
  frame: number | null;
  qualifier: string;
  callees: Set<string>; // keys of library functions
  externals: Set<string>; // undefined symbols referenced
}

export interface StackResult {
  name: string;
  global: boolean;
  frame: number | null;
  worst: number;
  bounded: boolean;
  path: string[];
  externals: string[];
  notes: string[];
}

export interface StackReport {
  method: string;
  functions: StackResult[]; // global (public) functions, sorted by worst desc
  locals: StackResult[]; // static functions
  maxPublic: StackResult | null;
}

/** Indirect calls to follow: which function calls which members of the
 * vtable struct, the struct's pointer slots in order (the first at offset
 * `firstOffset`, then one pointer apart) with the members in each (several
 * where the alternatives of a union overlap), and the vtable objects' name
 * prefix. */
export interface IndirectCalls {
  calls: Map<string, Set<string>>;
  members: string[][];
  firstOffset: number;
  pointerSize: number;
  tablePrefix: string;
}

/** Per function: the members of `struct ario__backend` it calls through a
 * pointer (`be->poll(`, `l->be->wake(`, `be->fallback->mem_size(`), from the
 * C source: top-level definitions, up to the closing brace in column 0. */
export function indirectCallsOf(sources: string[], header: string): IndirectCalls {
  const calls = new Map<string, Set<string>>();
  const def = /^[A-Za-z_][\w \t*]*?\b([A-Za-z_]\w*)\s*\([^;{]*\)\s*\{/gm;
  for (const text of sources) {
    const defs = [...text.matchAll(def)];
    defs.forEach((m, i) => {
      const start = m.index! + m[0].length;
      const next = i + 1 < defs.length ? defs[i + 1].index! : text.length;
      const close = text.indexOf("\n}", start);
      const body = text.slice(start, close >= 0 && close < next ? close : next);
      const used = new Set<string>();
      for (const c of body.matchAll(/\bbe(?:->fallback)?->(\w+)\s*\(/g)) used.add(c[1]);
      if (used.size) calls.set(m[1], used);
    });
  }
  const st = /typedef struct ario__backend \{([\s\S]*?)\} ario__backend;/.exec(header);
  const members: string[][] = [];
  if (st) {
    // an anonymous union's alternatives (`struct { ... }` inside it) all
    // start at the union's slot; after it, the next slot is past the longest
    let slot = 0, depth = 0;
    let union: { start: number; end: number; depth: number } | null = null;
    for (const part of st[1].replace(/\/\*[\s\S]*?\*\//g, "").split(";")) {
      for (const b of part.matchAll(/\b(union|struct)\s*\{|\}/g)) {
        if (b[0] === "}") {
          if (--depth === union?.depth) [slot, union] = [union.end, null];
        } else {
          if (b[1] === "union" && !union) union = { start: slot, end: slot, depth };
          else if (union && depth === union.depth + 1) slot = union.start;
          depth++;
        }
      }
      const fp = /\(\s*\*\s*(\w+)\s*\)\s*\(/.exec(part);
      const ptr = /\*\s*(\w+)\s*$/.exec(part.trim());
      const name = fp?.[1] ?? ptr?.[1];
      if (!name) continue;
      (members[slot] ??= []).push(name);
      slot++;
      if (union) union.end = Math.max(union.end, slot);
    }
  }
  // the first members are `uint8_t id, completion`, padded to a pointer
  return { calls, members, firstOffset: 4, pointerSize: 4, tablePrefix: "ario__backend_" };
}

export function analyzeStack(
  objs: { elf: ElfObject; su: Map<string, SuEntry> | null }[],
  indirect?: IndirectCalls,
): StackReport {
  const fns = new Map<string, Fn>();
  const globalsByName = new Map<string, string>();
  const perObj: Fn[][] = [];
  objs.forEach(({ elf, su }, oi) => {
    const list: Fn[] = [];
    const mask = elf.machine === EM_ARM ? ~1 : ~0;
    for (const s of elf.symbols) {
      if (s.type !== STT_FUNC || s.shndx === SHN_UNDEF || s.shndx >= 0xff00) continue;
      const global = s.bind !== STB_LOCAL;
      const key = global ? s.name : `${oi}:${s.name}`;
      const start = (s.value & mask) >>> 0;
      const e = su?.get(s.name);
      const fn: Fn = {
        key,
        name: s.name,
        objIndex: oi,
        shndx: s.shndx,
        start,
        end: start + Math.max(s.size, 1),
        global,
        frame: e ? e.bytes : null,
        qualifier: e ? e.qualifier : "",
        callees: new Set(),
        externals: new Set(),
      };
      fns.set(key, fn);
      if (global) globalsByName.set(s.name, key);
      list.push(fn);
    }
    perObj.push(list);
  });

  const sectionPrefix = /^\.(?:literal|text)(?:\.(?:unlikely|hot|startup|exit))?\.(.+)$/;
  objs.forEach(({ elf }, oi) => {
    const list = perObj[oi];
    const mask = elf.machine === EM_ARM ? ~1 : ~0;
    const inSection = (shndx: number, off: number) =>
      list.filter((f) => f.shndx === shndx && off >= f.start && off < f.end);
    const resolveLocalOrGlobal = (s: Sym) => s.bind === STB_LOCAL ? `${oi}:${s.name}` : s.name;
    for (const r of elf.relocs) {
      if (r.sym === 0) continue;
      let callers = inSection(r.section, r.offset);
      if (callers.length === 0) {
        const m = sectionPrefix.exec(elf.sections[r.section]?.name ?? "");
        if (!m) continue;
        callers = list.filter((f) => f.name === m[1]);
        if (callers.length === 0) continue;
        // a literal pool past the end of the section's code (llc) belongs to
        // the function that loads from it (followed from there), not to this
        // one; gcc's -mtext-section-literals pools come before the code
        if (callers.some((f) => f.shndx === r.section && r.offset >= f.end)) continue;
      }
      const s = elf.symbols[r.sym];
      if (!s) continue;
      const targets: { key?: string; ext?: string; viaFunc: boolean }[] = [];
      if (s.shndx === SHN_UNDEF) {
        if (!s.name) continue;
        targets.push({ ext: s.name, viaFunc: true });
      } else if (s.type === STT_FUNC) {
        targets.push({ key: resolveLocalOrGlobal(s), viaFunc: true });
      } else if (
        s.type === STT_SECTION && r.addend !== null &&
        !list.some((f) =>
          f.shndx === s.shndx && ((r.addend as number) & mask) >>> 0 >= f.start &&
          ((r.addend as number) & mask) >>> 0 < f.end
        )
      ) {
        // no function there: a literal (a data section, or llc's pool past
        // the end of a text section); its own relocation names the callee
        for (const lit of elf.relocs) {
          if (lit.section !== s.shndx || lit.offset !== r.addend || lit.sym === 0) continue;
          const t = elf.symbols[lit.sym];
          if (!t) continue;
          if (t.shndx === SHN_UNDEF && t.name) targets.push({ ext: t.name, viaFunc: true });
          else if (t.type === STT_FUNC) {
            targets.push({ key: resolveLocalOrGlobal(t), viaFunc: true });
          } else if (t.type === STT_SECTION && lit.addend !== null) {
            const a = (lit.addend & mask) >>> 0;
            for (const f of list) {
              if (f.shndx === t.shndx && a >= f.start && a < f.end) {
                targets.push({ key: f.key, viaFunc: false }); // a jump table into itself is no call
              }
            }
          }
        }
      } else if (s.type === STT_SECTION) {
        const fs = list.filter((f) => f.shndx === s.shndx);
        const chosen = r.addend !== null
          ? fs.filter((f) => {
            const a = ((r.addend as number) & mask) >>> 0;
            return a >= f.start && a < f.end;
          })
          : fs;
        for (const f of chosen) targets.push({ key: f.key, viaFunc: false });
      } else if (s.type === STT_NOTYPE) {
        for (const f of inSection(s.shndx, s.value)) targets.push({ key: f.key, viaFunc: false });
      } else if (s.type === STT_OBJECT) {
        continue;
      }
      for (const caller of callers) {
        for (const t of targets) {
          if (t.ext !== undefined) {
            const g = globalsByName.get(t.ext);
            if (g) caller.callees.add(g);
            else caller.externals.add(t.ext);
          } else if (t.key !== undefined) {
            if (t.key === caller.key && !t.viaFunc) continue; // a label inside itself
            if (fns.has(t.key)) caller.callees.add(t.key);
          }
        }
      }
    }
  });

  // calls through the vtables: caller -> the function at that member
  const viaTable: string[] = [];
  if (indirect) {
    const slot = new Map<number, string[]>(); // offset in a table -> members
    indirect.members.forEach((m, i) =>
      slot.set(indirect.firstOffset + i * indirect.pointerSize, m)
    );
    const impl = new Map<string, Set<string>>(); // member -> function keys
    objs.forEach(({ elf }, oi) => {
      for (const t of elf.symbols) {
        if (t.type !== STT_OBJECT || !t.name.startsWith(indirect.tablePrefix)) continue;
        if (t.shndx === SHN_UNDEF || t.shndx >= 0xff00) continue;
        for (const r of elf.relocs) {
          if (r.section !== t.shndx || r.offset < t.value || r.offset >= t.value + t.size) continue;
          const names = slot.get(r.offset - t.value);
          const y = elf.symbols[r.sym];
          if (!names || !y) continue;
          let key: string | undefined;
          if (y.type === STT_FUNC) key = y.bind === STB_LOCAL ? `${oi}:${y.name}` : y.name;
          else if (y.type === STT_SECTION && r.addend !== null) {
            // section + offset; literals may precede the code (-mtext-section-literals)
            const fs = perObj[oi].filter((f) => f.shndx === y.shndx);
            const a = r.addend;
            key = (fs.find((f) => a >= f.start && a < f.end) ?? (fs.length === 1 ? fs[0] : null))
              ?.key;
          }
          if (!key || !fns.has(key)) continue;
          // overlapping members: the function counts for each (a safe bound)
          for (const member of names) {
            if (!impl.has(member)) impl.set(member, new Set());
            impl.get(member)!.add(key);
          }
          if (!viaTable.includes(t.name)) viaTable.push(t.name);
        }
      }
    });
    for (const fn of fns.values()) {
      const used = indirect.calls.get(fn.name);
      if (!used) continue;
      for (const m of used) for (const k of impl.get(m) ?? []) if (k !== fn.key) fn.callees.add(k);
    }
  }

  const memo = new Map<string, StackResult>();
  const onPath = new Set<string>();
  const visit = (key: string): StackResult => {
    const done = memo.get(key);
    if (done) return done;
    const fn = fns.get(key)!;
    const notes: string[] = [];
    let bounded = true;
    if (fn.frame === null) notes.push(`no stack-usage entry for ${fn.name}`);
    if (fn.qualifier.startsWith("dynamic")) {
      if (fn.qualifier !== "dynamic,bounded") bounded = false;
      notes.push(`${fn.name}: ${fn.qualifier} frame`);
    }
    onPath.add(key);
    let best: StackResult | null = null;
    const externals = new Set(fn.externals);
    for (const c of fn.callees) {
      if (onPath.has(c)) {
        bounded = false;
        notes.push(`recursion: ${fn.name} -> ${fns.get(c)!.name}`);
        continue;
      }
      const sub = visit(c);
      sub.externals.forEach((e) => externals.add(e));
      if (!sub.bounded) bounded = false;
      for (const n of sub.notes) if (!notes.includes(n)) notes.push(n);
      if (!best || sub.worst > best.worst) best = sub;
    }
    onPath.delete(key);
    const frame = fn.frame ?? 0;
    const res: StackResult = {
      name: fn.name,
      global: fn.global,
      frame: fn.frame,
      worst: frame + (best ? best.worst : 0),
      bounded,
      path: [fn.name, ...(best ? best.path : [])],
      externals: [...externals].sort(),
      notes,
    };
    // Results that depend on a cycle still on the path are not memoised.
    if (!notes.some((n) => n.startsWith("recursion"))) memo.set(key, res);
    return res;
  };
  const all = [...fns.keys()].map(visit);
  const byWorst = (a: StackResult, b: StackResult) =>
    b.worst - a.worst || a.name.localeCompare(b.name);
  const functions = all.filter((r) => r.global).sort(byWorst);
  const locals = all.filter((r) => !r.global).sort(byWorst);
  return {
    method:
      "frame sizes from -fstack-usage (.su) or LLVM's .stack_sizes; worst case = own frame + " +
      "deepest callee along the static call graph taken from the relocations of " +
      "-ffunction-sections objects" +
      (viaTable.length
        ? `, calls through the backend table followed into ${viaTable.join(", ")}`
        : ", calls through the backend table not followed (no table among the objects)") +
      "; external callees (libc/libgcc) count 0 bytes and are listed",
    functions,
    locals,
    maxPublic: functions[0] ?? null,
  };
}
