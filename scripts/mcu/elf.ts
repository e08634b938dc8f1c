// Minimal ELF32 little-endian reader for relocatable objects (.o) of the MCU
// targets (Xtensa, RISC-V rv32, Arm Thumb): sections, symbols, relocations.
// Used for the size report, the zero-heap check and the stack call graph, so
// the report needs no binutils for the target (the matching `size` tool is
// only used as a cross-check when present).

export interface Section {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  entsize: number;
}

export interface Sym {
  index: number;
  name: string;
  value: number;
  size: number;
  type: number; // STT_*
  bind: number; // STB_*
  shndx: number;
}

export interface Reloc {
  section: number; // section the relocation applies to
  offset: number;
  sym: number; // symbol index (0 = none)
  type: number;
  addend: number | null; // null for REL (implicit addend)
}

export interface ElfObject {
  path: string;
  machine: number;
  sections: Section[];
  symbols: Sym[];
  relocs: Reloc[];
}

export const SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_RELA = 4, SHT_NOBITS = 8, SHT_REL = 9;
export const SHF_WRITE = 1, SHF_ALLOC = 2, SHF_EXECINSTR = 4;
export const STT_NOTYPE = 0, STT_OBJECT = 1, STT_FUNC = 2, STT_SECTION = 3;
export const STB_LOCAL = 0, STB_GLOBAL = 1, STB_WEAK = 2;
export const SHN_UNDEF = 0;
export const EM_ARM = 40, EM_XTENSA = 94, EM_RISCV = 243;

function cstr(b: Uint8Array, off: number): string {
  let end = off;
  while (end < b.length && b[end] !== 0) end++;
  return new TextDecoder().decode(b.subarray(off, end));
}

export function parseElf(bytes: Uint8Array, path = "<memory>"): ElfObject {
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new Error(`${path}: not an ELF file`);
  }
  if (bytes[4] !== 1 || bytes[5] !== 1) {
    throw new Error(`${path}: only ELF32 little-endian is supported`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const machine = u16(18);
  const shoff = u32(32), shentsize = u16(46), shnum = u16(48), shstrndx = u16(50);
  const raw: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      index: i,
      name: "",
      type: u32(o + 4),
      flags: u32(o + 8),
      offset: u32(o + 16),
      size: u32(o + 20),
      link: u32(o + 24),
      info: u32(o + 28),
      entsize: u32(o + 36),
      // name offset kept temporarily in `entsize`-like slot below
    });
    (raw[i] as Section & { nameOff: number }).nameOff = u32(o);
  }
  const shstr = raw[shstrndx];
  for (const s of raw) {
    s.name = cstr(bytes, shstr.offset + (s as Section & { nameOff: number }).nameOff);
  }
  const symbols: Sym[] = [];
  const symtab = raw.find((s) => s.type === SHT_SYMTAB);
  if (symtab) {
    const strtab = raw[symtab.link];
    const n = symtab.size / 16;
    for (let i = 0; i < n; i++) {
      const o = symtab.offset + i * 16;
      const info = bytes[o + 12];
      const shndx = u16(o + 14);
      let name = cstr(bytes, strtab.offset + u32(o));
      const type = info & 0xf;
      if (type === STT_SECTION && name === "" && shndx < raw.length) name = raw[shndx].name;
      symbols.push({
        index: i,
        name,
        value: u32(o + 4),
        size: u32(o + 8),
        type,
        bind: info >> 4,
        shndx,
      });
    }
  }
  const relocs: Reloc[] = [];
  for (const s of raw) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
    const ent = s.type === SHT_RELA ? 12 : 8;
    for (let o = s.offset; o < s.offset + s.size; o += ent) {
      const info = u32(o + 4);
      relocs.push({
        section: s.info,
        offset: u32(o),
        sym: info >>> 8,
        type: info & 0xff,
        addend: s.type === SHT_RELA ? dv.getInt32(o + 8, true) : null,
      });
    }
  }
  return { path, machine, sections: raw, symbols, relocs };
}

export async function readElf(path: string): Promise<ElfObject> {
  return parseElf(await Deno.readFile(path), path);
}

/** Berkeley-style sizes of the allocated sections of one object.
 * text = code + read-only data (what ends up in flash), data = initialised
 * writable data (flash + RAM), bss = zero-initialised RAM.  `code` and
 * `rodata` split `text` further. */
export interface Sizes {
  text: number;
  data: number;
  bss: number;
  code: number;
  rodata: number;
}

export function sectionSizes(obj: ElfObject): Sizes {
  const r: Sizes = { text: 0, data: 0, bss: 0, code: 0, rodata: 0 };
  for (const s of obj.sections) {
    if (!(s.flags & SHF_ALLOC)) continue;
    if (s.type === SHT_NOBITS) r.bss += s.size;
    else if (s.flags & SHF_WRITE) r.data += s.size;
    else {
      r.text += s.size;
      if (s.flags & SHF_EXECINSTR) r.code += s.size;
      else r.rodata += s.size;
    }
  }
  return r;
}

/** Frame sizes from LLVM's .stack_sizes sections (llc --stack-size-section),
 * as a .su file would give them: with -function-sections each .stack_sizes
 * section is linked (sh_link) to the one text section it describes and holds
 * one entry, an address (4 bytes on these 32-bit targets) then the frame
 * size as ULEB128. Static frames only (LLVM records no dynamic ones). */
export function stackSizes(
  obj: ElfObject,
  bytes: Uint8Array,
): Map<string, { bytes: number; qualifier: string }> {
  const m = new Map<string, { bytes: number; qualifier: string }>();
  for (const s of obj.sections) {
    if (s.name !== ".stack_sizes" || s.size < 5) continue;
    const fns = obj.symbols.filter((y) => y.type === STT_FUNC && y.shndx === s.link);
    if (fns.length !== 1) continue;
    let v = 0, shift = 0, o = s.offset + 4;
    while (o < s.offset + s.size) {
      const b = bytes[o++];
      v += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    m.set(fns[0].name, { bytes: v, qualifier: "static" });
  }
  return m;
}
