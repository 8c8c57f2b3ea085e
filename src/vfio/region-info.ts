/**
 * Building a VFIO_DEVICE_GET_REGION_INFO answer with its capability chain.
 *
 * Rules (kernel semantics): argsz below the 32-byte struct → EINVAL. When the region has
 * capabilities, flags carry CAPS; the chain is copied (cap_offset 32) only if the caller's
 * argsz holds the whole answer, otherwise caps are empty and cap_offset is 0. The returned
 * argsz is always what the full answer needs (the RegionInfo contract). Caps are placed
 * 8-byte aligned one after another; each header's `next` is an offset from the start of
 * the info buffer, 0 ending the chain.
 */
import {
  RegionCapId,
  type RegionInfo,
  RegionInfoFlags,
  regionOffset,
  VfioSize,
} from '../uapi/vfio.js';
import { fail } from './errors.js';

/** One region-info capability: its id, version and the bytes after the 8-byte header. */
export interface InfoCap {
  id: number;
  version: number;
  body: Uint8Array;
}

/** The sparse-mmap capability (id 1, v1): nr_areas u32, reserved u32, {offset u64, size u64}[]. */
export function sparseMmapCap(areas: readonly { offset: number; size: number }[]): InfoCap {
  const body = new Uint8Array(8 + 16 * areas.length);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, areas.length, true);
  areas.forEach((a, i) => {
    dv.setBigUint64(8 + 16 * i, BigInt(a.offset), true);
    dv.setBigUint64(16 + 16 * i, BigInt(a.size), true);
  });
  return { id: RegionCapId.SPARSE_MMAP, version: 1, body };
}

/** The region type capability (id 2, v1): type u32, subtype u32. */
export function typeCap(type: number, subtype: number): InfoCap {
  const body = new Uint8Array(8);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, type >>> 0, true);
  dv.setUint32(4, subtype >>> 0, true);
  return { id: RegionCapId.TYPE, version: 1, body };
}

/** The MSI-X-mappable capability (id 3, v1): header only. */
export function msixMappableCap(): InfoCap {
  return { id: RegionCapId.MSIX_MAPPABLE, version: 1, body: new Uint8Array(0) };
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Serialize a chain as the kernel lays it out after the 32-byte struct. */
export function encodeCapChain(caps: readonly InfoCap[]): Uint8Array {
  let total = 0;
  const starts: number[] = [];
  for (const c of caps) {
    total = align8(total);
    starts.push(total);
    total += VfioSize.CAP_HEADER + c.body.length;
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  caps.forEach((c, i) => {
    const at = starts[i] ?? 0;
    const next = starts[i + 1];
    dv.setUint16(at, c.id, true);
    dv.setUint16(at + 2, c.version, true);
    dv.setUint32(at + 4, next === undefined ? 0 : VfioSize.REGION_INFO + next, true);
    out.set(c.body, at + VfioSize.CAP_HEADER);
  });
  return out;
}

export interface RegionInfoSpec {
  index: number;
  flags: number;
  size: bigint | number;
  /** Default: index << 40. */
  offset?: bigint;
  caps?: readonly InfoCap[];
}

/** The answer for a caller that passed `argsz`. */
export function buildRegionInfo(spec: RegionInfoSpec, argsz: number): RegionInfo {
  if (!Number.isInteger(argsz) || argsz < VfioSize.REGION_INFO) {
    fail('EINVAL', `region info argsz ${argsz} is below ${VfioSize.REGION_INFO}`);
  }
  const chain = encodeCapChain(spec.caps ?? []);
  const base = {
    index: spec.index,
    size: BigInt(spec.size),
    offset: spec.offset ?? regionOffset(spec.index),
  };
  if (chain.length === 0) {
    return { ...base, argsz: VfioSize.REGION_INFO, flags: spec.flags, capOffset: 0, caps: chain };
  }
  const need = VfioSize.REGION_INFO + chain.length;
  const flags = spec.flags | RegionInfoFlags.CAPS;
  if (argsz < need) {
    return { ...base, argsz: need, flags, capOffset: 0, caps: new Uint8Array(0) };
  }
  return { ...base, argsz: need, flags, capOffset: VfioSize.REGION_INFO, caps: chain };
}
