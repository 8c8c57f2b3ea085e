/**
 * What each socket serves, for vm-config: connect as a VMM would, gather the same facts
 * `inspect` shows (inspect-gather.ts), keep the ids and the memory BAR sizes, hang up.
 * The only I/O of vm-config; one socket at a time, so each server's one-client rule holds.
 */
import { native } from '../../native/addon.js';
import { VfioUserClient } from '../../vfio-user/client/client.js';
import { connectUnix } from '../../vfio-user/transport/index.js';
import { CliError } from '../errors.js';
import { gatherInspect, type InspectReport } from '../inspect-gather.js';
import type { GpuFacts } from './topology.js';

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
    return factsFromReport(socketPath, await gatherInspect(client, closeFd));
  } catch (e) {
    throw new CliError('E_INSPECT', `${socketPath}: ${(e as Error).message}`);
  } finally {
    client.close();
  }
}
