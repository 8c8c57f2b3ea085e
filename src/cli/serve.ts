/**
 * `serve`: start the GPUs (a GpuSet: one with --socket-path/--fd, N with --gpus N
 * --socket-dir DIR), print what is served and how to attach it; serve until SIGTERM/SIGINT;
 * then shut down in order.
 *
 * Rules: local failures (socket path held by a live server, memory file of the wrong size,
 * bad flag) exit non-zero with a stable code and a clear message; nothing a peer sends can
 * end the process; does not daemonize. The fd limit is raised once at start and
 * max_dma_maps advertised from what it leaves; once listening, a "listening" log line and
 * systemd's READY=1 (when NOTIFY_SOCKET is set) say so.
 */

import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { MAX_DEPTH, MAX_LINE, MAX_OUTPUT, MAX_QUEUED } from '../control/bounds.js';
import { GpuUnit } from '../control/gpu-unit.js';
import type { ControlServer } from '../control/server.js';
import { FileTraceSink } from '../control/trace-sink.js';
import { dmaMapBudget, notifySystemd, raiseFdLimit } from '../host/index.js';
import { DEFAULT_LIMITS, type ServerLimits } from '../vfio-user/protocol/limits.js';
import { ENDPOINT_DEFAULTS, type ServerEndpoint } from '../vfio-user/server/endpoint.js';
import { type BehaviourSettings, formatBanner, formatSetBanner } from './banner.js';
import type { DeviceOptions } from './build-device.js';
import { CliError } from './errors.js';
import { GpuSet, gpuSocketPath, type ListenSpec } from './gpu-set.js';
import type { Logger } from './log.js';
import { vfioUserMsgTimeoutMs } from './msg-timeout.js';

export interface ServeOptions extends DeviceOptions {
  socketPath?: string;
  fd?: number;
  /** Serve this many GPUs on DIR/gpu0.sock … DIR/gpu<N-1>.sock (needs socketDir when > 1). */
  gpus?: number;
  socketDir?: string;
  guestMemory?: number;
  /** Deadline for VERSION and for finishing a begun message (ms). */
  handshakeTimeoutMs?: number;
  /** Poll mode: µs to keep polling the client's socket after each answer (0: off). */
  pollUs?: number;
  /** JSON-RPC control socket path (see src/control/server.ts). */
  controlSocket?: string;
  /** Trace every vfio-user message and region access from start-up into this file. */
  traceFile?: string;
}

export interface RunningServer {
  /** Every GPU served, by index. */
  gpus: GpuSet;
  /** GPU 0's endpoint and socket (the only ones with --socket-path or --fd). */
  endpoint: ServerEndpoint;
  socketPath: string | undefined;
  /** The limits advertised to clients (max_dma_maps from the fd budget). */
  limits: ServerLimits;
  /** One control unit per served GPU (index = gpu). */
  units: GpuUnit[];
  control: ControlServer | null;
  /** Orderly shutdown of every GPU: stop listening, drop the client, close the device memory. */
  stop(): Promise<void>;
}

export async function startServer(
  opts: ServeOptions,
  log: Logger,
  print: (s: string) => void,
): Promise<RunningServer> {
  const listens = listenSpecs(opts);
  const fdLimit = raiseFdLimit();
  // Every GPU's client may hold max_dma_maps fds at once: the fd budget is shared.
  const limits: ServerLimits = {
    ...DEFAULT_LIMITS,
    maxDmaMaps: dmaMapBudget(fdLimit.soft, DEFAULT_LIMITS.maxDmaMaps, listens.length),
  };
  if (limits.maxDmaMaps < 1024) {
    log.warn(
      { nofile: fdLimit.soft, maxDmaMaps: limits.maxDmaMaps },
      'the open-file limit leaves few DMA mappings; raise it (ulimit -n, LimitNOFILE=)',
    );
  }
  const gpus = await GpuSet.start(opts, listens, log, {
    limits,
    handshakeMs: opts.handshakeTimeoutMs ?? ENDPOINT_DEFAULTS.handshakeMs,
    pollUs: opts.pollUs ?? 0,
  });
  const units = gpus.gpus.map(
    (g) =>
      new GpuUnit({
        index: g.index,
        device: g.device,
        core: g.core,
        card: g.card,
        endpoint: g.endpoint,
        profile: g.summary.profile,
        kernel: g.summary.kernel,
        memSize: g.summary.memSize,
      }),
  );
  let control: ControlServer | null = null;
  try {
    if (opts.traceFile !== undefined) {
      const file = opts.traceFile;
      // One file for every GPU: each record names its gpu.
      let sink: FileTraceSink;
      try {
        sink = new FileTraceSink(file, (e) =>
          log.error({ file }, `trace file: ${e.message} (tracing to it stopped)`),
        );
      } catch (e) {
        throw new CliError('E_TRACE_WRITE', `cannot open --trace ${file}: ${(e as Error).message}`);
      }
      for (const u of units) await u.traceStart(sink, null);
    }
    if (opts.controlSocket !== undefined) {
      // Loaded only when asked for: the JSON-RPC server is start-up time a plain serve skips.
      const { ControlServer } = await import('../control/server.js');
      control = await ControlServer.listen({
        path: opts.controlSocket,
        units,
        log: (level, message) => log[level]({ control: opts.controlSocket }, message),
      });
    }
  } catch (e) {
    for (const u of units) await u.close();
    await gpus.stop();
    throw e;
  }
  const first = gpus.at(0);
  const settings: BehaviourSettings = {
    kernel: opts.kernel,
    readyDelayMs: opts.readyDelayMs,
    resetDurationMs: opts.resetDurationMs,
    acpi: opts.acpi,
    memoryFile: opts.memoryFile,
    sync: opts.sync,
    handshakeMs: opts.handshakeTimeoutMs ?? ENDPOINT_DEFAULTS.handshakeMs,
  };
  // Control-socket faults (reset-stall, link-down) can keep the card not ready for as long
  // as the gate polls: its ready time is then not known.
  const gate = first.summary.gate;
  const servedGate = gate && control ? { ...gate, readyAfterResetMs: null } : gate;
  print(
    opts.socketDir === undefined
      ? formatBanner(first.summary, {
          socketPath: first.socketPath,
          guestMemory: opts.guestMemory,
          settings,
          msgTimeoutMs: vfioUserMsgTimeoutMs(servedGate),
        })
      : formatSetBanner(gpus.gpus, settings),
  );
  for (const g of gpus.gpus) {
    log.info(
      {
        gpu: g.index,
        socket: g.socketPath ?? `fd ${opts.fd}`,
        device: g.device.name,
        profile: opts.profile,
        kernel: g.summary.kernel,
        memSize: g.summary.memSize,
        maxDmaMaps: limits.maxDmaMaps,
        nofile: fdLimit.soft,
      },
      `listening on ${g.socketPath ?? `inherited fd ${opts.fd}`}`,
    );
  }
  for (const g of gpus.gpus) {
    const unsafe = g.socketPath ? unsafeDir(g.socketPath) : null;
    if (unsafe) log.warn(unsafe);
  }
  const notified = notifySystemd(`READY=1\nSTATUS=serving ${gpus.size} × ${first.device.name}`);
  if (notified) log.warn(notified);
  if (control) print(`Control socket: ${control.path} (JSON-RPC 2.0, one message per line)\n`);
  let stopping: Promise<void> | null = null;
  return {
    gpus,
    endpoint: first.endpoint,
    socketPath: first.socketPath,
    limits,
    units,
    control,
    stop() {
      stopping ??= (async () => {
        await control?.close();
        for (const u of units) await u.close();
        notifySystemd('STOPPING=1');
        await gpus.stop();
      })();
      return stopping;
    },
  };
}

/** Where each GPU listens, from --socket-path / --fd / --gpus N --socket-dir DIR. */
export function listenSpecs(opts: ServeOptions): ListenSpec[] {
  const count = opts.gpus ?? 1;
  if (!Number.isSafeInteger(count) || count < 1 || count > 64)
    throw new CliError('E_USAGE', `--gpus must be 1..64 (got ${opts.gpus})`);
  const given = [opts.socketPath, opts.fd, opts.socketDir].filter((v) => v !== undefined);
  if (given.length !== 1)
    throw new CliError('E_USAGE', 'serve needs exactly one of --socket-path, --fd, --socket-dir');
  if (opts.socketDir === undefined) {
    if (count > 1)
      throw new CliError('E_USAGE', '--gpus N with N > 1 needs --socket-dir DIR (one socket each)');
    return [opts.fd !== undefined ? { fd: opts.fd } : { socketPath: opts.socketPath! }];
  }
  if (opts.memoryFile !== undefined && count > 1)
    throw new CliError('E_USAGE', "--memory-file holds one GPU's memory: use it with --gpus 1");
  try {
    mkdirSync(opts.socketDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CliError('E_SOCKET_DIR', `cannot create ${opts.socketDir}: ${(e as Error).message}`);
  }
  return Array.from({ length: count }, (_, i) => ({
    socketPath: gpuSocketPath(opts.socketDir!, i),
  }));
}

/** A socket in a directory others may write to, without the sticky bit, can be replaced under us. */
function unsafeDir(socketPath: string): string | null {
  const dir = dirname(socketPath);
  try {
    const mode = statSync(dir).mode;
    if (mode & 0o002 && !(mode & 0o1000)) {
      return `socket directory ${dir} is writable by others and not sticky: anyone can replace the socket; use a private directory (e.g. /run/nvgrace-user)`;
    }
  } catch {
    // The directory vanished under us: listen() already succeeded, nothing more to say.
  }
  return null;
}

export const LIMITS_HELP = `
Limits (advertised in VERSION and enforced):
  maximum message size        ${DEFAULT_LIMITS.maxMsgSize} bytes (1 MiB of data + headers)
  maximum data per transfer   ${DEFAULT_LIMITS.maxDataXfer} bytes (max_data_xfer_size)
  maximum fds per message     ${DEFAULT_LIMITS.maxMsgFds} (max_msg_fds)
  maximum DMA mappings        ${DEFAULT_LIMITS.maxDmaMaps} (max_dma_maps), fewer if the open-file
                              limit (raised to its hard limit at start) cannot hold one fd each
  DMA page sizes              ${DEFAULT_LIMITS.pgsizes} (pgsizes)

Bounds per client (past one the server stops reading from it, or answers ENOSPC):
  queued replies              ${ENDPOINT_DEFAULTS.highWaterBytes / 2 ** 20} MiB or ${ENDPOINT_DEFAULTS.highWaterFds} fds
  requests waiting behind one ${ENDPOINT_DEFAULTS.maxQueuedInput / 2 ** 20} MiB
  VERSION, and a begun message, within --handshake-timeout (default ${ENDPOINT_DEFAULTS.handshakeMs} ms)
One client at a time per GPU. A newcomer while one is attached waits up to ${ENDPOINT_DEFAULTS.attachWaitMs} ms for it to
leave (a client that hung up is noticed at once); if it stays, the newcomer's VERSION is
answered EBUSY: "device in use by another VMM".

Control socket (--control-socket, JSON-RPC 2.0 one message per line; docs/control-plane.md):
  line length                 ${MAX_LINE / 1024} KiB (a longer line: one -32700 reply, discarded to its newline)
  nesting depth               ${MAX_DEPTH} levels
  unread output per client    ${MAX_OUTPUT / 2 ** 20} MiB (past it the control client is dropped)
  requests waiting per client ${MAX_QUEUED} lines (then reading pauses)`;
