/**
 * GpuSet: the GPUs one `serve` process serves, addressed by index (0 … N-1). A GpuInstance
 * composes one GPU's device memory (its own sparse memfd, or `--memory-file`), its device
 * model (card + nvgrace-gpu variant), its listener and its endpoint (one client at a time).
 *
 * Rules:
 * - nothing is shared between instances: one VMM attaching, resetting or dying touches only
 *   its own GPU's endpoint, device and memory;
 * - memory stays sparse: an instance allocates nothing per byte of device memory at start-up,
 *   so N GPUs start as fast and as small as one;
 * - start-up is all or nothing: if any GPU cannot start (socket taken, probe refused), the
 *   ones already started are stopped and the error is thrown;
 * - stop() is idempotent and stops every GPU (listener, client, memory).
 */
import { join } from 'node:path';
import { nodeHostOps } from '../host/index.js';
import type { GraceCard } from '../hw/grace-card.js';
import type { VfioDevice } from '../vfio/device.js';
import type { VfioPciDevice } from '../vfio/pci-device.js';
import { type EndpointOptions, ServerEndpoint } from '../vfio-user/server/endpoint.js';
import { listenFd, listenUnix } from '../vfio-user/transport/index.js';
import { buildDevice, type DeviceOptions, type DeviceSummary } from './build-device.js';
import type { Logger } from './log.js';

/** Where one GPU listens: a UNIX socket path, or an inherited listening fd. */
export type ListenSpec = { socketPath: string } | { fd: number };

export interface GpuInstance {
  readonly index: number;
  /** The socket path, or undefined for an inherited fd. */
  readonly socketPath: string | undefined;
  readonly device: VfioDevice;
  /** The physical card and the vfio-pci core under the device (control plane). */
  readonly card: GraceCard;
  readonly core: VfioPciDevice;
  readonly summary: DeviceSummary;
  readonly endpoint: ServerEndpoint;
  /** Stop listening, drop the client, close the device memory. Idempotent. */
  stop(): Promise<void>;
}

/** Endpoint settings every GPU shares (limits advertised, handshake deadline, bounds). */
export type EndpointSettings = Omit<EndpointOptions, 'device' | 'host' | 'log'>;

/** The socket of GPU `index` in a `--socket-dir`: DIR/gpu<index>.sock. */
export function gpuSocketPath(dir: string, index: number): string {
  return join(dir, `gpu${index}.sock`);
}

export async function startGpu(
  index: number,
  opts: DeviceOptions,
  listen: ListenSpec,
  log: Logger,
  settings: EndpointSettings = {},
): Promise<GpuInstance> {
  const built = await buildDevice({
    ...opts,
    memoryLabel: `gpu${index}`,
    onProbeWait: (message) => log.info({ gpu: index }, message),
  });
  let listener: ReturnType<typeof listenUnix>;
  try {
    listener = 'fd' in listen ? listenFd(listen.fd) : listenUnix(listen.socketPath);
  } catch (e) {
    built.close();
    throw e;
  }
  const bindings = { gpu: index, device: built.device.name };
  const endpoint = new ServerEndpoint(listener, {
    ...settings,
    device: built.device,
    host: nodeHostOps,
    log: (level, message) => log[level](bindings, message),
  });
  let stopping: Promise<void> | null = null;
  return {
    index,
    socketPath: listener.path,
    device: built.device,
    card: built.card,
    core: built.core,
    summary: built.summary,
    endpoint,
    stop() {
      stopping ??= (async () => {
        await endpoint.stop();
        try {
          built.close(); // flushes a --memory-file
        } catch (e) {
          log.error(`closing device memory: ${(e as Error).message}`);
        }
      })();
      return stopping;
    },
  };
}

export class GpuSet {
  private constructor(readonly gpus: readonly GpuInstance[]) {}

  /** Start one GPU per listen spec, GPU i on listens[i]; all or nothing. */
  static async start(
    opts: DeviceOptions,
    listens: ListenSpec[],
    log: Logger,
    settings: EndpointSettings = {},
  ): Promise<GpuSet> {
    const gpus: GpuInstance[] = [];
    try {
      for (const [i, listen] of listens.entries())
        gpus.push(await startGpu(i, opts, listen, log, settings));
    } catch (e) {
      await Promise.all(gpus.map((g) => g.stop()));
      throw e;
    }
    return new GpuSet(gpus);
  }

  get size(): number {
    return this.gpus.length;
  }

  /** GPU `index`; a RangeError names the valid range. */
  at(index: number): GpuInstance {
    const g = Number.isInteger(index) ? this.gpus[index] : undefined;
    if (!g) throw new RangeError(`no GPU ${index}: this server has GPUs 0..${this.size - 1}`);
    return g;
  }

  stop(): Promise<void> {
    return Promise.all(this.gpus.map((g) => g.stop())).then(() => {});
  }
}
