/**
 * What `inspect` learns about a device, the way a VMM and its guest firmware would: VERSION,
 * device info, every region's info (with the sparse-mmap areas), every IRQ's info, the whole
 * config space, and each BAR sized through config space (write all-ones, read back, restore).
 *
 * Rules: read-only in effect — every config register it writes is restored; the region fds
 * it receives are closed; errors per region/IRQ are recorded, not fatal.
 */

import { PciRegion, pciRegionName, RegionCapId, RegionInfoFlags, VfioSize } from '../uapi/vfio.js';
import type { VfioUserClient } from '../vfio-user/client/client.js';
import { decodeSparseMmapCap, Errno, RemoteError, walkCaps } from '../vfio-user/protocol/index.js';
import {
  type IdentityReport,
  readIdentity,
  type ServedMemory,
  servedMemory,
} from './inspect-identity.js';
import { labelRegion, type ServedRegion, servedRegion } from './region-labels.js';

export interface RegionReport {
  index: number;
  name: string;
  flags: number;
  size: string;
  offset: string;
  readable: boolean;
  writable: boolean;
  mmap: boolean;
  fdPassed: boolean;
  sparseAreas: { offset: string; size: string }[];
  /** What the region is, from region-labels.ts (the banner's labels). */
  kind?: string;
  /** The TYPE capability of a device-specific region. */
  type?: { type: string; subtype: number };
  /** The device has no such region (the server answered EINVAL, as the kernel does). */
  absent?: boolean;
  error?: string;
}

/**
 * The ACPI _DSD properties a VMM must give the guest's GPU node when the memory comes as a
 * device-specific region (--layout vendor-region) instead of BARs.
 */
export interface AcpiNeeds {
  region: number;
  /** nvidia,gpu-mem-size: the whole region. */
  gpuMemSize: string;
  /** nvidia,gpu-mem-base-pa: chosen by the VMM (where it maps the region in guest PA). */
  gpuMemBasePa: 'guest physical address where the VMM maps the region';
  /** Hopper: the uncached resmem carve-out at the end (map NORMAL_NC). */
  resmem: { offset: string; size: string } | null;
}

export interface IrqReport {
  index: number;
  name: string;
  flags: number;
  count: number;
  error?: string;
}

export interface BarReport {
  bar: number;
  raw: string;
  kind: 'mem32' | 'mem64' | 'io' | 'none';
  prefetchable: boolean;
  /** Size learned by writing all-ones through config space, like guest firmware. */
  sizedBytes: string;
  /** Size the region info reports. */
  regionSize: string;
}

export interface InspectReport {
  version: { major: number; minor: number; capabilities: Record<string, unknown> };
  device: { flags: number; numRegions: number; numIrqs: number };
  regions: RegionReport[];
  irqs: IrqReport[];
  bars: BarReport[];
  config: number[];
  /** Present when the device memory is a device-specific region. */
  acpi: AcpiNeeds | null;
  /** What the server says it emulates (BAR0 identity block, not on real hardware); null = unknown. */
  identity: IdentityReport | null;
  /** The usemem/resmem sizes the served regions carry. */
  served: ServedMemory;
}

const IRQ_NAMES = ['INTx', 'MSI', 'MSI-X', 'ERR', 'REQ'];

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

async function readConfig(client: VfioUserClient, offset: number, size: number): Promise<number> {
  const b = await client.regionRead(PciRegion.CONFIG, offset, size);
  if (b.length !== size)
    throw new Error(`config read at ${hex(offset)} returned ${b.length} bytes`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return size === 4 ? v.getUint32(0, true) : size === 2 ? v.getUint16(0, true) : v.getUint8(0);
}

async function writeConfig32(client: VfioUserClient, offset: number, value: number): Promise<void> {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  await client.regionWrite(PciRegion.CONFIG, offset, b);
}

/** Size one BAR (or 64-bit pair) as firmware does; restores the original values. */
async function sizeBar(
  client: VfioUserClient,
  bar: number,
): Promise<{ raw: number; size: bigint; is64: boolean }> {
  const off = 0x10 + 4 * bar;
  const raw = await readConfig(client, off, 4);
  const io = (raw & 1) === 1;
  const is64 = !io && (raw & 0x6) === 0x4;
  await writeConfig32(client, off, 0xffffffff);
  const lo = await readConfig(client, off, 4);
  await writeConfig32(client, off, raw);
  let mask = BigInt(lo & (io ? ~0x3 : ~0xf)) & 0xffffffffn;
  if (is64 && bar < 5) {
    const rawHi = await readConfig(client, off + 4, 4);
    await writeConfig32(client, off + 4, 0xffffffff);
    const hi = await readConfig(client, off + 4, 4);
    await writeConfig32(client, off + 4, rawHi);
    mask |= BigInt(hi >>> 0) << 32n;
    if (mask === 0n) return { raw, size: 0n, is64 };
    return { raw, size: (~mask & 0xffffffffffffffffn) + 1n, is64 };
  }
  if (mask === 0n) return { raw, size: 0n, is64 };
  return { raw, size: (~mask & 0xffffffffn) + 1n, is64 };
}

export async function gatherInspect(
  client: VfioUserClient,
  closeFd: (fd: number) => void,
): Promise<InspectReport> {
  const version = await client.version();
  const device = await client.deviceInfo();
  const regions: RegionReport[] = [];
  const servedRegions: ServedRegion[] = [];
  let acpi: AcpiNeeds | null = null;
  for (let i = 0; i < device.numRegions; i++) {
    const name = pciRegionName(i);
    try {
      const r = await client.regionInfo(i);
      if (r.fd !== null) closeFd(r.fd);
      const sparseAreas: RegionReport['sparseAreas'] = [];
      if (r.flags & RegionInfoFlags.CAPS && r.capOffset >= VfioSize.REGION_INFO) {
        const full = new Uint8Array(VfioSize.REGION_INFO + r.caps.length);
        full.set(r.caps, VfioSize.REGION_INFO);
        for (const cap of walkCaps(full, r.capOffset)) {
          if (cap.id === RegionCapId.SPARSE_MMAP) {
            for (const a of decodeSparseMmapCap(cap.bytes)) {
              sparseAreas.push({ offset: hex(a.offset), size: hex(a.size) });
            }
          }
        }
      }
      const served = servedRegion(r);
      servedRegions.push(served);
      const label = labelRegion(served);
      if (label?.role === 'vendor-memory') {
        const res = served.sparseAreas[1];
        acpi = {
          region: i,
          gpuMemSize: hex(r.size),
          gpuMemBasePa: 'guest physical address where the VMM maps the region',
          resmem: res ? { offset: hex(res.offset), size: hex(res.size) } : null,
        };
      }
      regions.push({
        index: i,
        name,
        flags: r.flags,
        size: hex(r.size),
        offset: hex(r.offset),
        readable: (r.flags & RegionInfoFlags.READ) !== 0,
        writable: (r.flags & RegionInfoFlags.WRITE) !== 0,
        mmap: (r.flags & RegionInfoFlags.MMAP) !== 0,
        fdPassed: r.fd !== null,
        sparseAreas,
        ...(label ? { kind: label.kind } : {}),
        ...(served.type
          ? { type: { type: hex(served.type.type), subtype: served.type.subtype } }
          : {}),
      });
    } catch (e) {
      // vfio_pci_ioctl_get_region_info(): EINVAL for an index the device does not have
      // (VGA on a device without VGA): the region is absent, not broken.
      const absent = e instanceof RemoteError && e.errno === Errno.EINVAL;
      regions.push({
        index: i,
        name,
        flags: 0,
        size: '0x0',
        offset: '0x0',
        readable: false,
        writable: false,
        mmap: false,
        fdPassed: false,
        sparseAreas: [],
        ...(absent ? { absent: true } : { error: (e as Error).message }),
      });
    }
  }
  const irqs: IrqReport[] = [];
  for (let i = 0; i < device.numIrqs; i++) {
    const name = IRQ_NAMES[i] ?? `irq ${i}`;
    try {
      const q = await client.irqInfo(i);
      irqs.push({ index: i, name, flags: q.flags, count: q.count });
    } catch (e) {
      irqs.push({ index: i, name, flags: 0, count: 0, error: (e as Error).message });
    }
  }
  const cfgRegion = regions[PciRegion.CONFIG];
  const cfgSize = cfgRegion ? Number(BigInt(cfgRegion.size)) : 256;
  const config: number[] = [];
  for (let off = 0; off < cfgSize; off += 1024) {
    const chunk = await client.regionRead(PciRegion.CONFIG, off, Math.min(1024, cfgSize - off));
    config.push(...chunk);
  }
  const bar0 = regions[PciRegion.BAR0];
  const identity =
    bar0?.readable && !bar0.error ? await readIdentity(client, BigInt(bar0.size)) : null;
  const bars: BarReport[] = [];
  for (let bar = 0; bar < 6; bar++) {
    const s = await sizeBar(client, bar);
    const io = (s.raw & 1) === 1;
    const kind = s.size === 0n ? 'none' : io ? 'io' : s.is64 ? 'mem64' : 'mem32';
    bars.push({
      bar,
      raw: hex(s.raw >>> 0),
      kind,
      prefetchable: !io && (s.raw & 0x8) !== 0,
      sizedBytes: hex(s.size),
      regionSize: regions[bar]?.size ?? '0x0',
    });
    if (s.is64) bar++;
  }
  return {
    version: {
      major: version.major,
      minor: version.minor,
      capabilities: JSON.parse(version.json ?? '{}').capabilities ?? {},
    },
    device: { flags: device.flags, numRegions: device.numRegions, numIrqs: device.numIrqs },
    regions,
    irqs,
    bars,
    config,
    acpi,
    identity,
    served: servedMemory(servedRegions),
  };
}
