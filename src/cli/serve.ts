/**
 * `serve`: compose memory backing, card, variant driver, listener and endpoint; print what
 * is served and how to attach it; serve until SIGTERM/SIGINT; then shut down in order.
 *
 * Rules: local failures (socket path held by a live server, memory file of the wrong size,
 * bad flag) exit non-zero with a stable code and a clear message; nothing a peer sends can
 * end the process; does not daemonize.
 */

import { nodeHostOps } from '../host/index.js';
import { DEFAULT_LIMITS } from '../vfio-user/protocol/limits.js';
import { ServerEndpoint } from '../vfio-user/server/endpoint.js';
import { listenFd, listenUnix } from '../vfio-user/transport/index.js';
import { formatBanner } from './banner.js';
import { buildDevice, type DeviceOptions } from './build-device.js';
import type { Logger } from './log.js';

export interface ServeOptions extends DeviceOptions {
  socketPath?: string;
  fd?: number;
  guestMemory?: number;
}

export interface RunningServer {
  endpoint: ServerEndpoint;
  socketPath: string | undefined;
  /** Orderly shutdown: stop listening, drop the client, close the device memory. */
  stop(): Promise<void>;
}

export async function startServer(
  opts: ServeOptions,
  log: Logger,
  print: (s: string) => void,
): Promise<RunningServer> {
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
    log: (level, message) => log[level]({ device: built.device.name }, message),
  });
  print(formatBanner(built.summary, { socketPath: listener.path, guestMemory: opts.guestMemory }));
  let stopping: Promise<void> | null = null;
  return {
    endpoint,
    socketPath: listener.path,
    stop() {
      stopping ??= (async () => {
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
  maximum DMA mappings        ${DEFAULT_LIMITS.maxDmaMaps} (max_dma_maps)
  DMA page sizes              ${DEFAULT_LIMITS.pgsizes} (pgsizes)
One client at a time; a second one is refused while one is attached.`;
