/**
 * What each socket serves, for vm-config: connect as a VMM would, gather the same facts
 * `inspect` shows (inspect-gather.ts), keep the ids and the memory BAR sizes, hang up.
 * The only I/O of vm-config; one socket at a time, so each server's one-client rule holds.
 */
import { resolve } from 'node:path';
import { native } from '../../native/addon.js';
import {
  cxlMemActiveTimeoutField,
  cxlMemActiveTimeoutMs,
  cxlRangeSizeLow,
  PCI_DVSEC_CXL_DEVICE,
  PCI_VENDOR_ID_CXL,
} from '../../pci/cxl-dvsec.js';
import { findDvsec } from '../../pci/walk.js';
import { VfioUserClient } from '../../vfio-user/client/client.js';
import { connectUnix } from '../../vfio-user/transport/index.js';
import { CliError } from '../errors.js';
import { gatherInspect, type InspectReport } from '../inspect-gather.js';
import type { GpuFacts } from './topology.js';

/** Little-endian read of the report's config bytes (bytes past its end read 0). */
function configReader(c: readonly number[]) {
  return (offset: number, size: 1 | 2 | 4): number => {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (c[offset + i] ?? 0);
    return v;
  };
}

/** Memory_Active_Timeout (ms) of the CXL Device DVSEC in config space, or null without one. */
export function cxlTimeoutFromConfig(c: readonly number[]): number | null {
  const read = configReader(c);
  const dvsec = findDvsec(read, PCI_VENDOR_ID_CXL, PCI_DVSEC_CXL_DEVICE, c.length);
  if (dvsec === null) return null;
  return cxlMemActiveTimeoutMs(cxlMemActiveTimeoutField(read(dvsec + cxlRangeSizeLow(0), 4)));
}

/** The facts vm-config needs from one inspect report (pure). */
export function factsFromReport(socketPath: string, r: InspectReport): GpuFacts {
  const c = r.config;
  const barSizes = r.bars
    .filter((b) => b.kind === 'mem64' || b.kind === 'mem32')
    .map((b) => Number(BigInt(b.sizedBytes)));
  return {
    socketPath,
    vendorId: (c[0] ?? 0) | ((c[1] ?? 0) << 8),
    deviceId: (c[2] ?? 0) | ((c[3] ?? 0) << 8),
    barSizes,
    cxlMemActiveTimeoutMs: cxlTimeoutFromConfig(c),
    band: r.identity?.kernel ?? null,
  };
}

export async function gatherFacts(socketPath: string, timeoutMs: number): Promise<GpuFacts> {
  let conn: Awaited<ReturnType<typeof connectUnix>>;
  try {
    conn = await connectUnix(socketPath);
  } catch (e) {
    throw new CliError('E_CONNECT', `cannot connect to ${socketPath}: ${(e as Error).message}`);
  }
  const closeFd = (fd: number) => native().closeFd(fd);
  const client = new VfioUserClient(conn, { closeFd, timeoutMs });
  try {
    // The VMM may run from another directory (libvirt does): name the socket absolutely.
    return factsFromReport(resolve(socketPath), await gatherInspect(client, closeFd));
  } catch (e) {
    throw new CliError('E_INSPECT', `${socketPath}: ${(e as Error).message}`);
  } finally {
    client.close();
  }
}
