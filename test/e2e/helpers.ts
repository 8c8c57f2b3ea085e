/**
 * End-to-end helpers: a served device on a socket in a fresh temp dir, and clients that
 * attach to it as a VMM would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/cli/log.js';
import { type RunningServer, type ServeOptions, startServer } from '../../src/cli/serve.js';
import { native } from '../../src/native/addon.js';
import { type RegionInfoResult, VfioUserClient } from '../../src/vfio-user/client/client.js';
import { decodeSparseMmapCap, RegionCapId, walkCaps } from '../../src/vfio-user/protocol/index.js';
import { connectUnix } from '../../src/vfio-user/transport/index.js';

export const closeFd = (fd: number) => native().closeFd(fd);

export interface Served {
  server: RunningServer;
  socketPath: string;
  dir: string;
  banner: string;
  connect(): Promise<VfioUserClient>;
  /** Connect and negotiate VERSION as QEMU does. */
  attach(): Promise<VfioUserClient>;
  stop(): Promise<void>;
}

export async function serve(opts: Partial<ServeOptions> = {}): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), 'nvgrace-e2e-'));
  const socketPath = join(dir, 'gpu.sock');
  let banner = '';
  const server = await startServer(
    { profile: 'gh200', kernel: '6.19', socketPath, ...opts },
    createLogger('silent'),
    (s) => {
      banner += s;
    },
  );
  const clients: VfioUserClient[] = [];
  const connect = async () => {
    const c = new VfioUserClient(await connectUnix(socketPath), { closeFd, timeoutMs: 5000 });
    clients.push(c);
    return c;
  };
  return {
    server,
    socketPath,
    dir,
    banner,
    connect,
    async attach() {
      const c = await connect();
      await c.version();
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function u32(b: Uint8Array, off = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

export function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

export function le64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}

/** Wait until `cond()` holds, polling the event loop (bounded). */
export async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The sparse-mmap areas of a region's info (asserting the capability is there). */
export function sparseAreas(r: RegionInfoResult): { offset: bigint; size: bigint }[] {
  const full = new Uint8Array(32 + r.caps.length);
  full.set(r.caps, 32);
  const caps = walkCaps(full, r.capOffset);
  const sparse = caps.find((c) => c.id === RegionCapId.SPARSE_MMAP);
  assert.ok(sparse, 'sparse-mmap capability present');
  return decodeSparseMmapCap(sparse.bytes);
}
