/** Shared helpers for transport tests: temp dirs, connected pairs, waiting for events. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '../../src/vfio-user/transport/types.js';
import {
  connectUnix,
  listenUnix,
  type UnixListener,
} from '../../src/vfio-user/transport/unix-socket.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nvgrace-user-transport-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Pair {
  server: Connection;
  client: Connection;
  listener: UnixListener;
  close(): void;
}

/** A listener in a fresh temp dir and one connection to it, both ends ready. */
export async function connectedPair(): Promise<Pair> {
  const t = tempDir();
  const listener = listenUnix(join(t.dir, 's.sock'));
  const accepted = new Promise<Connection>((resolve) => listener.onConnection(resolve));
  const client = await connectUnix(join(t.dir, 's.sock'));
  const server = await accepted;
  return {
    server,
    client,
    listener,
    close() {
      client.close();
      server.close();
      listener.close();
      t.cleanup();
    },
  };
}

/** Collects everything a connection receives. */
export function collect(conn: Connection): {
  bytes: () => Buffer;
  chunks: { chunk: Buffer; fds: number[] }[];
} {
  const chunks: { chunk: Buffer; fds: number[] }[] = [];
  conn.onData((chunk, fds) => chunks.push({ chunk, fds }));
  return { chunks, bytes: () => Buffer.concat(chunks.map((c) => c.chunk)) };
}

/** Resolves when `predicate` holds, checking after each turn of the event loop. */
export async function until(predicate: () => boolean, what: string, turns = 10000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (predicate()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`gave up waiting for ${what}`);
}
