/**
 * Renders an InspectReport as an `lspci -vv`-like summary followed by what only vfio-user
 * shows (region flags, sparse-mmap areas, fds, IRQ info). Pure: report in, text out.
 */

import type { InspectReport } from './inspect-gather.js';
import { formatSize } from './size.js';

const STD_CAPS: Record<number, string> = {
  1: 'Power Management',
  5: 'MSI',
  9: 'Vendor Specific Information',
  16: 'Express',
  17: 'MSI-X',
  19: 'PCI Advanced Features',
};

const EXT_CAPS: Record<number, string> = {
  0: 'Null',
  1: 'Advanced Error Reporting',
  3: 'Device Serial Number',
  4: 'Power Budgeting',
  11: 'Vendor Specific Information',
  21: 'Physical Resizable BAR',
  24: 'Latency Tolerance Reporting',
  35: 'Designated Vendor-Specific',
};

const h2 = (v: number, w = 2) => v.toString(16).padStart(w, '0');

function cfgU8(c: number[], o: number): number {
  return c[o] ?? 0;
}
function cfgU16(c: number[], o: number): number {
  return cfgU8(c, o) | (cfgU8(c, o + 1) << 8);
}
function cfgU32(c: number[], o: number): number {
  return (cfgU16(c, o) | (cfgU16(c, o + 2) << 16)) >>> 0;
}

const flag = (name: string, on: boolean) => `${name}${on ? '+' : '-'}`;

function stdCapLine(c: number[], at: number): string {
  const id = cfgU8(c, at);
  const name = STD_CAPS[id] ?? `Capability ID 0x${h2(id)}`;
  if (id === 0x01) return `${name} version ${cfgU16(c, at + 2) & 0x7}`;
  if (id === 0x05) {
    const f = cfgU16(c, at + 2);
    return `${name}: ${flag('Enable', (f & 1) !== 0)} Count=${1 << ((f >> 4) & 7)}/${1 << ((f >> 1) & 7)} ${flag('Maskable', (f & 0x100) !== 0)} ${flag('64bit', (f & 0x80) !== 0)}`;
  }
  if (id === 0x10) {
    const f = cfgU16(c, at + 2);
    const types: Record<number, string> = {
      0: 'Endpoint',
      1: 'Legacy Endpoint',
      9: 'Root Complex Integrated Endpoint',
    };
    const devcap = cfgU32(c, at + 4);
    return `${name} (v${f & 0xf}) ${types[(f >> 4) & 0xf] ?? `type ${(f >> 4) & 0xf}`}, ${flag('FLReset', (devcap & (1 << 28)) !== 0)}`;
  }
  if (id === 0x11) {
    const f = cfgU16(c, at + 2);
    const table = cfgU32(c, at + 4);
    const pba = cfgU32(c, at + 8);
    return `${name}: ${flag('Enable', (f & 0x8000) !== 0)} Count=${(f & 0x7ff) + 1} ${flag('Masked', (f & 0x4000) !== 0)}\n\t\tVector table: BAR=${table & 7} offset=${h2(table & ~7, 8)}\n\t\tPBA: BAR=${pba & 7} offset=${h2(pba & ~7, 8)}`;
  }
  if (id === 0x09) return `${name}: Len=${h2(cfgU8(c, at + 2))}`;
  return name;
}

function extCapLine(c: number[], at: number): string {
  const hdr = cfgU32(c, at);
  const id = hdr & 0xffff;
  const ver = (hdr >> 16) & 0xf;
  const name = EXT_CAPS[id] ?? `Extended Capability ID 0x${h2(id, 4)}`;
  if (id === 0x23) {
    const h1 = cfgU32(c, at + 4);
    const h2v = cfgU16(c, at + 8);
    const reg = cfgU16(c, at + 0xa);
    return `${name}: Vendor=${h2(h1 & 0xffff, 4)} ID=${h2(h2v, 4)} Rev=${(h1 >> 16) & 0xf} Len=${(h1 >>> 20) & 0xfff}: +0xA=${h2(reg, 4)}`;
  }
  return `${name} (v${ver})`;
}

export function formatInspect(r: InspectReport): string {
  const c = r.config;
  const out: string[] = [];
  const vendor = cfgU16(c, 0);
  const device = cfgU16(c, 2);
  const cls = cfgU32(c, 8) >>> 8;
  out.push(
    `vfio-user device: ${h2(vendor, 4)}:${h2(device, 4)} class [${h2(cls >> 8, 4)}] (rev ${h2(cfgU8(c, 8))})`,
  );
  out.push(`\tSubsystem: ${h2(cfgU16(c, 0x2c), 4)}:${h2(cfgU16(c, 0x2e), 4)}`);
  const cmd = cfgU16(c, 4);
  out.push(
    `\tControl: ${flag('I/O', (cmd & 1) !== 0)} ${flag('Mem', (cmd & 2) !== 0)} ${flag('BusMaster', (cmd & 4) !== 0)} ${flag('DisINTx', (cmd & 0x400) !== 0)}`,
  );
  const pin = cfgU8(c, 0x3d);
  out.push(`\tInterrupt: pin ${pin ? String.fromCharCode(64 + pin) : '?'}`);
  for (const b of r.bars) {
    if (b.kind === 'none') continue;
    const size = Number(BigInt(b.sizedBytes));
    const kind =
      b.kind === 'io'
        ? 'I/O ports'
        : `Memory (${b.kind === 'mem64' ? '64-bit' : '32-bit'}, ${b.prefetchable ? 'prefetchable' : 'non-prefetchable'})`;
    out.push(
      `\tRegion ${b.bar}: ${kind} [size=${formatSize(size)}] (raw ${b.raw}, region info ${formatSize(Number(BigInt(b.regionSize)))})`,
    );
  }
  if (cfgU16(c, 6) & 0x10) {
    const seen = new Set<number>();
    for (let at = cfgU8(c, 0x34) & ~3; at >= 0x40 && !seen.has(at); at = cfgU8(c, at + 1) & ~3) {
      seen.add(at);
      out.push(`\tCapabilities: [${h2(at)}] ${stdCapLine(c, at)}`);
    }
  }
  if (c.length > 0x100 && cfgU32(c, 0x100) !== 0) {
    const seen = new Set<number>();
    for (let at = 0x100; at >= 0x100 && !seen.has(at); at = (cfgU32(c, at) >>> 20) & ~3) {
      seen.add(at);
      out.push(
        `\tCapabilities: [${h2(at, 3)} v${(cfgU32(c, at) >> 16) & 0xf}] ${extCapLine(c, at)}`,
      );
    }
  }
  out.push('');
  out.push(
    `vfio-user: version ${r.version.major}.${r.version.minor}, server capabilities ${JSON.stringify(r.version.capabilities)}`,
  );
  out.push(`\t${identityLine(r)}`);
  out.push(
    `\tdevice flags 0x${r.device.flags.toString(16)}, ${r.device.numRegions} regions, ${r.device.numIrqs} IRQ types`,
  );
  for (const g of r.regions) {
    if (g.absent) {
      out.push(`\tregion ${g.index} ${g.name}: absent (the device has no such region)`);
      continue;
    }
    if (g.error) {
      out.push(`\tregion ${g.index} ${g.name}: error ${g.error}`);
      continue;
    }
    const size = Number(BigInt(g.size));
    if (size === 0 && g.flags === 0) {
      out.push(`\tregion ${g.index} ${g.name}: not implemented`);
      continue;
    }
    const f = [g.readable && 'read', g.writable && 'write', g.mmap && 'mmap']
      .filter(Boolean)
      .join(',');
    const areas = g.sparseAreas
      .map((a) => `${a.offset}+${formatSize(Number(BigInt(a.size)))}`)
      .join(' ');
    out.push(
      `\tregion ${g.index} ${g.name}: size ${formatSize(size)} (${g.size}) [${f}]${g.fdPassed ? ' fd' : ''}${areas ? ` sparse mmap: ${areas}` : ''}${g.type ? ` type ${g.type.type}/${g.type.subtype}` : ''}${g.kind ? ` — ${g.kind}` : ''}`,
    );
  }
  if (r.acpi) {
    const a = r.acpi;
    out.push(`\tACPI _DSD the VMM must give the guest's GPU node (memory is region ${a.region}):`);
    out.push(`\t\tnvidia,gpu-mem-base-pa = the ${a.gpuMemBasePa}`);
    out.push(`\t\tnvidia,gpu-mem-size = ${a.gpuMemSize}`);
    if (a.resmem) {
      out.push(
        `\t\tresmem (uncached, map NORMAL_NC): the last ${a.resmem.size} bytes, at region offset ${a.resmem.offset} (the guest driver carves it from the end)`,
      );
    }
  }
  for (const q of r.irqs) {
    out.push(
      `\tirq ${q.index} ${q.name}: ${q.error ? `error ${q.error}` : `count ${q.count}, flags 0x${q.flags.toString(16)}`}`,
    );
  }
  return `${out.join('\n')}\n`;
}

const sizeOrNone = (h: string | null) => (h === null ? 'none' : formatSize(Number(BigInt(h))));

/** The served identity (BAR0 identity block, emulator only) and the memory the regions carry. */
function identityLine(r: InspectReport): string {
  const served = `usemem ${sizeOrNone(r.served.usemem)}, resmem ${sizeOrNone(r.served.resmem)}`;
  const id = r.identity;
  if (!id) return `emulator identity: unknown (no identity block in BAR0); served ${served}`;
  const p = id.policies ? `, mse ${id.policies.mse}, layout ${id.policies.layout}` : '';
  return `emulator identity: profile ${id.profile ?? 'unknown'}, kernel band ${id.kernel ?? 'unknown'}, memory ${formatSize(Number(BigInt(id.memSize)))}${p}; served ${served}`;
}
