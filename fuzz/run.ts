/**
 * The standalone fuzzer: drives random and mutated vfio-user message streams against a LIVE
 * server process (`bin/nvgrace-user serve --socket-path <tmp> --log-level silent`) and reports
 * messages sent, replies and error replies received, server disconnects, crashes (server
 * process exit), hangs (a valid probe unanswered for more than 1 s after a batch) and leaks
 * (server fd count and RSS at start vs end) — a summary line plus JSON on stdout.
 *
 * Usage: npm run fuzz -- [--seconds N (60)] [--seed S] [--batch B (40)] [--rss-slack MiB (64)]
 *
 * Batches alternate between "framed" (mutations keep the size field honest; the probe goes on
 * the same connection, which may live on) and "chaos" (sizes may lie, raw random bytes, split
 * sends; the connection is dropped afterwards and the probe goes on a fresh one). Some
 * connections skip VERSION so the pre-negotiation state is fuzzed too.
 *
 * Rules: bounded — the peer keeps at most 1024 frames of 64 payload bytes, the recent-input
 * ring holds 32 entries, server stderr is capped; every wait has a timeout. Exit 0 only when
 * there was no crash, hang or leak. Ends only the server process it started (by pid).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { native } from '../src/native/addon.js';
import { encodeDeviceGetInfo, isErrorReply } from '../src/vfio-user/protocol/index.js';
import { probeSocketPath } from '../src/vfio-user/transport/index.js';
import { corpus, type FdKind, mutate, Rng } from '../test/support/mutate.js';
import { fdCount, rss, waitQuiet } from '../test/support/proc.js';
import { RawPeer } from '../test/support/raw-peer.js';

const BIN = fileURLToPath(new URL('../../bin/nvgrace-user', import.meta.url));
const PROBE_ID = 0x7f01;
const HANG_MS = 1000;
const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string' },
    batch: { type: 'string', default: '40' },
    'rss-slack': { type: 'string', default: '64' },
  },
});
const seconds = Number(args.seconds);
const seed = args.seed !== undefined ? Number(args.seed) : (Date.now() ^ (process.pid << 16)) >>> 0;
const batchSize = Number(args.batch);
const rssSlack = Number(args['rss-slack']) * MiB;
if (!(seconds > 0) || !(batchSize > 0) || !Number.isFinite(seed)) {
  process.stderr.write('usage: fuzz [--seconds N] [--seed S] [--batch B] [--rss-slack MiB]\n');
  process.exit(2);
}

const stats = {
  seed,
  seconds,
  batches: 0,
  messagesSent: 0,
  bytesSent: 0,
  fdsSent: 0,
  repliesReceived: 0,
  errorRepliesReceived: 0,
  serverDisconnects: 0,
  connections: 0,
  refusedConnects: 0,
  probes: 0,
  crashes: 0,
  hangs: 0,
  leaks: [] as string[],
  fdsStart: 0,
  fdsEnd: 0,
  rssStartMiB: 0,
  rssEndMiB: 0,
};
const recent: string[] = [];
function remember(line: string): void {
  recent.push(line);
  if (recent.length > 32) recent.shift();
}

// ---- the server process ----

const dir = mkdtempSync(join(tmpdir(), 'nvgrace-fuzz-'));
const socketPath = join(dir, 'gpu.sock');
let server: ChildProcess | null = null;
let serverExit: { code: number | null; signal: string | null } | null = null;
let serverErr = '';

async function startServer(): Promise<number> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--socket-path', socketPath, '--log-level', 'silent'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  server = child;
  child.stderr!.on('data', (d) => {
    serverErr = (serverErr + d).slice(-16384);
  });
  child.on('exit', (code, signal) => {
    serverExit = { code, signal };
  });
  const end = Date.now() + 20000;
  while (probeSocketPath(socketPath) !== 'live') {
    if (serverExit) throw new Error(`server exited at start: ${serverErr}`);
    if (Date.now() > end) throw new Error('server did not start listening');
    await sleep(20);
  }
  return child.pid!;
}

// ---- peers ----

function makeFds(kinds: FdKind[]): number[] {
  const n = native();
  return kinds.map((k) => {
    if (k === 'eventfd') return n.eventfdCreate(0, false);
    const fd = n.memfdCreate('fuzz');
    n.ftruncateFd(fd, 1 << 16);
    return fd;
  });
}

function account(peer: RawPeer): void {
  stats.repliesReceived += peer.received;
  stats.errorRepliesReceived += peer.errorReplies;
  peer.received = 0;
  peer.errorReplies = 0;
}

/** A connection the server accepted (it refuses while the previous client is still attached). */
async function connect(negotiate: boolean): Promise<RawPeer | 'hang'> {
  for (let i = 0; i < 200; i++) {
    if (serverExit) return 'hang';
    let peer: RawPeer;
    try {
      peer = await RawPeer.connect(socketPath, { keepPayload: 64, maxInbox: 1024 });
    } catch {
      await sleep(10);
      continue;
    }
    stats.connections++;
    // The probe also tells a refused connection (closed at once) from an accepted one.
    const ok = negotiate ? await peer.negotiate(0x7f00, 2000) : await probePre(peer);
    account(peer);
    if (ok) {
      if (negotiate) negotiated.add(peer);
      return peer;
    }
    peer.close();
    stats.refusedConnects++;
    await sleep(5);
  }
  return 'hang';
}

/** Before VERSION a GET_INFO must get EINVAL — an answer all the same. */
async function probePre(peer: RawPeer): Promise<boolean> {
  peer.send(encodeDeviceGetInfo(PROBE_ID));
  const r = await peer.reply(PROBE_ID, 2000);
  return typeof r === 'object';
}

/** Connections that negotiated VERSION: there GET_INFO must succeed (before, EINVAL is due). */
const negotiated = new WeakSet<RawPeer>();

/** A valid request answered within HANG_MS; anything else is a hang (or the connection died). */
async function probe(peer: RawPeer): Promise<'ok' | 'closed' | 'hang'> {
  stats.probes++;
  peer.send(encodeDeviceGetInfo(PROBE_ID));
  const r = await peer.reply(PROBE_ID, HANG_MS);
  account(peer);
  if (r === 'closed') return 'closed';
  if (r === 'timeout') return 'hang';
  if (isErrorReply(r.reply.header) && negotiated.has(peer)) {
    remember(`probe on a negotiated session failed with errno ${r.reply.header.error}`);
    return 'hang';
  }
  return 'ok';
}

// ---- one batch ----

const seeds = corpus();

async function batch(rng: Rng, peer: RawPeer, chaos: boolean): Promise<void> {
  for (let i = 0; i < batchSize && !peer.closed; i++) {
    let bytes: Uint8Array;
    let kinds: FdKind[] = [];
    let how: string;
    if (chaos && rng.chance(0.05)) {
      bytes = new Uint8Array(1 + rng.int(256));
      for (let k = 0; k < bytes.length; k++) bytes[k] = rng.int(256);
      how = `random ${bytes.length} bytes`;
    } else {
      let id = rng.int(0x7f00);
      if (id === PROBE_ID) id++;
      const m = mutate(rng, seeds, { msgId: id, keepFraming: !chaos || rng.chance(0.6) });
      bytes = m.bytes;
      kinds = m.fds;
      how = m.how.join(', ');
    }
    const fds = makeFds(kinds);
    try {
      if (chaos && rng.chance(0.2) && bytes.length > 1) {
        const cut = 1 + rng.int(bytes.length - 1);
        peer.send(bytes.subarray(0, cut), fds);
        peer.send(bytes.subarray(cut));
      } else {
        peer.send(bytes, fds);
      }
    } finally {
      for (const fd of fds) native().closeFd(fd);
    }
    stats.messagesSent++;
    stats.bytesSent += bytes.length;
    stats.fdsSent += fds.length;
    remember(
      `${chaos ? 'chaos' : 'framed'} ${how} [${Buffer.from(bytes.subarray(0, 48)).toString('hex')}${bytes.length > 48 ? '…' : ''}] fds ${fds.length}`,
    );
  }
}

// ---- main ----

function finish(code: number): never {
  const line =
    `fuzz: ${stats.seconds} s, seed ${stats.seed}: ${stats.messagesSent} messages sent ` +
    `(${stats.batches} batches, ${stats.connections} connections), ${stats.repliesReceived} replies ` +
    `of which ${stats.errorRepliesReceived} errors, ${stats.serverDisconnects} server disconnects, ` +
    `${stats.crashes} crashes, ${stats.hangs} hangs, ${stats.leaks.length} leaks ` +
    `(fds ${stats.fdsStart} → ${stats.fdsEnd}, RSS ${stats.rssStartMiB} → ${stats.rssEndMiB} MiB)`;
  process.stdout.write(`${line}\n${JSON.stringify(stats)}\n`);
  if (code !== 0) {
    process.stderr.write(`last inputs:\n${recent.join('\n')}\n`);
    if (serverErr) process.stderr.write(`server stderr:\n${serverErr}\n`);
  }
  if (server && !serverExit) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  process.exit(code);
}

async function main(): Promise<void> {
  const pid = await startServer();
  const rng = new Rng(seed);
  // Baseline after one full attach/detach, with the server idle.
  const warm = await connect(true);
  if (warm === 'hang') throw new Error('cannot attach to the fresh server');
  await probe(warm);
  warm.close();
  await waitQuiet(pid, 300, 10000);
  stats.fdsStart = fdCount(pid);
  const rss0 = rss(pid);
  stats.rssStartMiB = Math.round(rss0 / MiB);

  const end = Date.now() + seconds * 1000;
  let peer: RawPeer | null = null;
  while (Date.now() < end) {
    if (serverExit) break;
    const chaos = rng.chance(0.3);
    if (!peer || peer.closed) {
      const c = await connect(rng.chance(0.9));
      if (c === 'hang') {
        if (!serverExit) stats.hangs++;
        break;
      }
      peer = c;
    }
    await batch(rng, peer, chaos);
    stats.batches++;
    let verdict: 'ok' | 'closed' | 'hang';
    if (chaos || peer.closed) {
      // The stream may be out of sync: judge the server on a fresh connection.
      if (peer.closed) stats.serverDisconnects++;
      account(peer);
      peer.close();
      const fresh = await connect(true);
      if (fresh === 'hang') {
        verdict = 'hang';
      } else {
        peer = fresh;
        verdict = await probe(peer);
      }
    } else {
      verdict = await probe(peer);
      if (verdict === 'closed') {
        // A framed batch may legitimately end the session (e.g. a fatal VERSION before
        // negotiation); the server must still serve the next client.
        stats.serverDisconnects++;
        const fresh = await connect(true);
        if (fresh === 'hang') {
          verdict = 'hang';
        } else {
          peer = fresh;
          verdict = await probe(peer);
        }
      }
    }
    if (verdict !== 'ok') {
      if (serverExit) break;
      stats.hangs++;
      break;
    }
    if (rng.chance(0.2)) {
      account(peer);
      peer.close();
      peer = null;
    }
  }
  if (peer) {
    account(peer);
    peer.close();
  }
  if (serverExit) {
    stats.crashes++;
    process.stderr.write(`server exited: ${JSON.stringify(serverExit)}\n`);
    finish(1);
  }
  // Leaks: the server, idle with no client, against its start.
  const last = await connect(true);
  if (last !== 'hang') {
    await probe(last);
    last.close();
  }
  await waitQuiet(pid, 300, 10000);
  stats.fdsEnd = fdCount(pid);
  const rss1 = rss(pid);
  stats.rssEndMiB = Math.round(rss1 / MiB);
  if (stats.fdsEnd > stats.fdsStart) stats.leaks.push(`fds ${stats.fdsStart} → ${stats.fdsEnd}`);
  if (rss1 - rss0 > rssSlack) {
    stats.leaks.push(`RSS grew ${((rss1 - rss0) / MiB).toFixed(1)} MiB (slack ${rssSlack / MiB})`);
  }
  const bad = stats.crashes + stats.hangs + stats.leaks.length;
  finish(bad === 0 ? 0 : 1);
}

process.once('SIGINT', () => finish(130));
main().catch((e) => {
  process.stderr.write(`fuzz: ${(e as Error).stack ?? e}\n`);
  finish(2);
});
