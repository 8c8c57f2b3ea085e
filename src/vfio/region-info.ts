/**
 * Encoding of the info structures the device ioctls answer: vfio_region_info with its
 * capability chain (sparse-mmap, MSIX_MAPPABLE), vfio_device_info and vfio_irq_info.
 *
 * Rules (vfio_info_cap_add / vfio_info_cap_shift and the GET_REGION_INFO tail): caps are laid
 * out after the 32-byte struct, each header's `next` is an offset from the start of the info
 * buffer (0 ends the chain). When the caller's argsz cannot hold struct + caps, the answer is
 * still success: argsz says what is needed, cap_offset is 0, no cap bytes, flags keep CAPS.
 */
import type { DeviceInfo, IrqInfo, RegionInfo } from './device.js';
import { fail } from './errors.js';
import { RegionCap, RegionFlags, regionOffset, VfioSizes } from './uapi.js';

/** One capability body (header excluded) with its id and version. */
export interface InfoCap {
  id: number;
  version: number;
  body: Uint8Array;
}

export interface SparseArea {
  offset: number;
  size: number;
}

/** The sparse-mmap capability: nr_areas, reserved, then {offset u64, size u64} per area. */
export function sparseMmapCap(areas: readonly SparseArea[]): InfoCap {
  const body = new Uint8Array(8 + areas.length * VfioSizes.SPARSE_MMAP_AREA);
  const v = new DataView(body.buffer);
  v.setUint32(0, areas.length, true);
  areas.forEach((a, i) => {
    v.setBigUint64(8 + i * 16, BigInt(a.offset), true);
    v.setBigUint64(16 + i * 16, BigInt(a.size), true);
  });
  return { id: RegionCap.SPARSE_MMAP, version: 1, body };
}

/** The MSIX_MAPPABLE capability: a bare header. */
export function msixMappableCap(): InfoCap {
  return { id: RegionCap.MSIX_MAPPABLE, version: 1, body: new Uint8Array(0) };
}

/** The chain bytes as they land after a `base`-byte struct (next = absolute offsets). */
export function encodeCapChain(caps: readonly InfoCap[], base: number = VfioSizes.REGION_INFO) {
  const total = caps.reduce((n, c) => n + VfioSizes.CAP_HEADER + c.body.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let at = 0;
  caps.forEach((c, i) => {
    const len = VfioSizes.CAP_HEADER + c.body.length;
    v.setUint16(at, c.id, true);
    v.setUint16(at + 2, c.version, true);
    v.setUint32(at + 4, i + 1 < caps.length ? base + at + len : 0, true);
    out.set(c.body, at + VfioSizes.CAP_HEADER);
    at += len;
  });
  return out;
}

export interface RegionInfoParams {
  index: number;
  flags: number;
  size: number | bigint;
  caps?: readonly InfoCap[];
}

/** GET_REGION_INFO for a caller buffer of `argsz` bytes (argsz < 32 → EINVAL). */
export function buildRegionInfo(argsz: number, p: RegionInfoParams): RegionInfo {
  if (!Number.isInteger(argsz) || argsz < VfioSizes.REGION_INFO) {
    fail('EINVAL', `region info argsz ${argsz} is below ${VfioSizes.REGION_INFO}`);
  }
  const caps = p.caps ?? [];
  const chain = encodeCapChain(caps);
  const base = {
    index: p.index,
    size: BigInt(p.size),
    offset: regionOffset(p.index),
  };
  if (chain.length === 0) {
    return { ...base, argsz: VfioSizes.REGION_INFO, flags: p.flags, capOffset: 0, caps: chain };
  }
  const need = VfioSizes.REGION_INFO + chain.length;
  const flags = p.flags | RegionFlags.CAPS;
  if (argsz < need) return { ...base, argsz: need, flags, capOffset: 0, caps: new Uint8Array(0) };
  return { ...base, argsz: need, flags, capOffset: VfioSizes.REGION_INFO, caps: chain };
}

/** struct vfio_region_info (+ cap bytes) exactly as the kernel copies it to the user. */
export function encodeRegionInfo(info: RegionInfo): Uint8Array {
  const out = new Uint8Array(VfioSizes.REGION_INFO + info.caps.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, info.argsz, true);
  v.setUint32(4, info.flags, true);
  v.setUint32(8, info.index, true);
  v.setUint32(12, info.capOffset, true);
  v.setBigUint64(16, info.size, true);
  v.setBigUint64(24, info.offset, true);
  out.set(info.caps, VfioSizes.REGION_INFO);
  return out;
}

/** struct vfio_device_info (no caps): argsz, flags, num_regions, num_irqs, cap_offset, pad. */
export function encodeDeviceInfo(info: DeviceInfo): Uint8Array {
  const out = new Uint8Array(VfioSizes.DEVICE_INFO);
  const v = new DataView(out.buffer);
  v.setUint32(0, VfioSizes.DEVICE_INFO, true);
  v.setUint32(4, info.flags, true);
  v.setUint32(8, info.numRegions, true);
  v.setUint32(12, info.numIrqs, true);
  return out;
}

/** struct vfio_irq_info: argsz, flags, index, count. */
export function encodeIrqInfo(info: IrqInfo): Uint8Array {
  const out = new Uint8Array(VfioSizes.IRQ_INFO);
  const v = new DataView(out.buffer);
  v.setUint32(0, VfioSizes.IRQ_INFO, true);
  v.setUint32(4, info.flags, true);
  v.setUint32(8, info.index, true);
  v.setUint32(12, info.count, true);
  return out;
}
