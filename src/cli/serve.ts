/**
 * `serve`: compose memory backing, card, variant driver, listener and endpoint; print what
 * is served and how to attach it; serve until SIGTERM/SIGINT; then shut down in order.
 *
 * Rules: local failures (socket path held by a live server, memory file of the wrong size,
 * bad flag) exit non-zero with a stable code and a clear message; nothing a peer sends can
 * end the process; does not daemonize. The fd limit is raised once at start and
 * max_dma_maps advertised from what it leaves; once listening, a "listening" log line and
 * systemd's READY=1 (when NOTIFY_SOCKET is set) say so.
 */

import { dmaMapBudget, nodeHostOps, notifySystemd, raiseFdLimit } from '../host/index.js';
import { DEFAULT_LIMITS, type ServerLimits } from '../vfio-user/protocol/limits.js';
import { ENDPOINT_DEFAULTS, ServerEndpoint } from '../vfio-user/server/endpoint.js';
import { listenFd, listenUnix } from '../vfio-user/transport/index.js';
import { formatBanner } from './banner.js';
import { buildDevice, type DeviceOptions } from './build-device.js';
import type { Logger } from './log.js';

export interface ServeOptions extends DeviceOptions {
  socketPath?: string;
  fd?: number;
  guestMemory?: number;
  /** Deadline for VERSION and for finishing a begun message (ms). */
  handshakeTimeoutMs?: number;
}

export interface RunningServer {
  endpoint: ServerEndpoint;
  socketPath: string | undefined;
  /** The limits advertised to clients (max_dma_maps from the fd budget). */
  limits: ServerLimits;
  /** Orderly shutdown: stop listening, drop the client, close the device memory. */
  stop(): Promise<void>;
}

export async function startServer(
  opts: ServeOptions,
  log: Logger,
  print: (s: string) => void,
): Promise<RunningServer> {
  const fdLimit = raiseFdLimit();
  const limits: ServerLimits = {
    ...DEFAULT_LIMITS,
    maxDmaMaps: dmaMapBudget(fdLimit.soft, DEFAULT_LIMITS.maxDmaMaps),
  };
  if (limits.maxDmaMaps < 1024) {
    log.warn(
      { nofile: fdLimit.soft, maxDmaMaps: limits.maxDmaMaps },
      'the open-file limit leaves few DMA mappings; raise it (ulimit -n, LimitNOFILE=)',
    );
  }
  const built = await buildDevice(opts);
  let listener: ReturnType<typeof listenUnix>;
  try {
    listener = opts.fd !== undefined ? listenFd(opts.fd) : listenUnix(opts.socketPath!);
  } catch (e) {
    built.close();
    throw e;
  }
  const endpoint = new ServerEndpoint(listener, {
    device: built.device,
    host: nodeHostOps,
    limits,
    handshakeMs: opts.handshakeTimeoutMs ?? ENDPOINT_DEFAULTS.handshakeMs,
    log: (level, message) => log[level]({ device: built.device.name }, message),
  });
  print(formatBanner(built.summary, { socketPath: listener.path, guestMemory: opts.guestMemory }));
  log.info(
    {
      socket: listener.path ?? `fd ${opts.fd}`,
      device: built.device.name,
      profile: opts.profile,
      kernel: built.summary.kernel,
      memSize: built.summary.memSize,
      maxDmaMaps: limits.maxDmaMaps,
      nofile: fdLimit.soft,
    },
    `listening on ${listener.path ?? `inherited fd ${opts.fd}`}`,
  );
  const notified = notifySystemd(`READY=1\nSTATUS=serving ${built.device.name}`);
  if (notified) log.warn(notified);
  let stopping: Promise<void> | null = null;
  return {
    endpoint,
    socketPath: listener.path,
    limits,
    stop() {
      stopping ??= (async () => {
        notifySystemd('STOPPING=1');
        await endpoint.stop();
        built.close();
      })();
      return stopping;
    },
  };
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
One client at a time. A newcomer while one is attached waits up to ${ENDPOINT_DEFAULTS.attachWaitMs} ms for it to
leave (a client that hung up is noticed at once); if it stays, the newcomer's VERSION is
answered EBUSY: "device in use by another VMM".`;
