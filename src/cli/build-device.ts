/**
 * Composition of one served device: the memory backing (memfd or `--memory-file`), the
 * physical card of the chosen profile, and the nvgrace-gpu variant on top of the vfio-pci
 * core for the chosen kernel band. Also derives the summary the banner prints, from the
 * VfioDevice interface alone (what a VMM would see).
 */

import { FileMemory } from '../host/index.js';
import { systemClock } from '../host/system-clock.js';
import type { Clock } from '../hw/clock.js';
import type { GraceCard } from '../hw/grace-card.js';
import { createCard, getProfile, type ProfileName } from '../hw/index.js';
import {
  createNvgraceDevice,
  type ExposureLayout,
  type GateWaitFacts,
  type KernelBand,
  type MsePolicy,
  NvgraceDevice,
} from '../nvgrace/index.js';
import {
  BANDS,
  bandCode,
  CXL_INFO_VALID_TIMEOUT_MS,
  READY_TIMEOUT_MS,
} from '../nvgrace/kernel-bands.js';
import { policyCode, UPSTREAM_POLICIES } from '../nvgrace/policies.js';
import { cxlMemActiveTimeoutMs } from '../pci/cxl-dvsec.js';
import { PciRegion } from '../uapi/vfio.js';
import type { VfioDevice } from '../vfio/device.js';
import type { VfioPciDevice } from '../vfio/pci-device.js';
import { labelRegion, servedRegion } from './region-labels.js';

export interface DeviceOptions {
  profile: ProfileName;
  memSize?: number;
  kernel: KernelBand;
  memoryFile?: string;
  /** Accept a --memory-file that is a symlink or belongs to another user. */
  allowForeignMemoryFile?: boolean;
  /** When --memory-file data is flushed: after every write, or at shutdown (default). */
  sync?: 'always' | 'shutdown';
  readyDelayMs?: number;
  /** blackwell-next: Memory_Active_Timeout in seconds (1, 4, 16, 64 or 256) instead of 16. */
  cxlTimeoutS?: number;
  /** Told about once a second while the driver probe waits for the card to be ready. */
  onProbeWait?: (message: string) => void;
  resetDurationMs?: number;
  /** ACPI gpu-mem-size: 'present' (default), 'absent' or 'zero' (both make the driver fall back to plain vfio-pci). */
  acpi?: 'present' | 'absent' | 'zero';
  /** Review alternative: the fake BARs honour the virtual MSE bit (v15) or ignore it (upstream). */
  mse?: MsePolicy;
  /** Review alternative: fake BARs (upstream) or one device-specific region. */
  layout?: ExposureLayout;
  /** Appended to the memfd's name (e.g. "gpu1"), so each GPU's memory is told apart in /proc. */
  memoryLabel?: string;
}

/** Memory_Active_Timeout codes 000b..100b in seconds (cxlMemActiveTimeoutMs / 1000). */
export const CXL_TIMEOUT_SECONDS = [0, 1, 2, 3, 4].map((c) => cxlMemActiveTimeoutMs(c) / 1000);

export interface BarSummary {
  /** Region index (0..5 for BARs, ≥ 9 for a device-specific region). */
  index: number;
  kind: string;
  size: number;
  /** Bytes of real device memory behind it (the sparse-mmap area), if any. */
  memory?: number;
  mappable: boolean;
}

export interface DeviceSummary {
  name: string;
  profile: string;
  description: string;
  vendorId: number;
  deviceId: number;
  kernel: string;
  memSize: number;
  /** Device memory a VMM can reach through the served regions (0 on the plain-core fallback). */
  servedMemory: number;
  memoryFile: string | undefined;
  bars: BarSummary[];
  /**
   * What bounds the post-reset gate's wait (the QEMU line's x-msg-timeout, msg-timeout.ts);
   * null on the plain-core fallback, which has no gate.
   */
  gate: GateWaitFacts | null;
}

export interface BuiltDevice {
  device: VfioDevice;
  /** The physical card (faults, readiness) and the vfio-pci core (host-side operations). */
  card: GraceCard;
  core: VfioPciDevice;
  summary: DeviceSummary;
  close(): void;
}

/**
 * What the probe waits on, and for how long at most, as the band's probe does it: the 7.2
 * band polls a part's CXL Device DVSEC (nvgrace_gpu_wait_device_ready_cxl(): 1 s for
 * Memory_Info_Valid, then its Memory_Active_Timeout), every other band and part the BAR0
 * C2C-link / HBM-training registers for READY_TIMEOUT_MS (nvgrace_gpu_wait_device_ready()).
 */
function probeWait(kernel: KernelBand, cxlMemActiveMs: number | null) {
  return BANDS[kernel].cxlReadiness && cxlMemActiveMs !== null
    ? { what: 'CXL DVSEC memory active', limitMs: CXL_INFO_VALID_TIMEOUT_MS + cxlMemActiveMs }
    : { what: 'C2C link / HBM training', limitMs: READY_TIMEOUT_MS };
}

/**
 * The system clock, reporting each readiness poll's sleep while the probe runs ("waiting for
 * C2C link / HBM training, 3 s of 30 s"); silent once done() (the device keeps the clock
 * for its post-reset waits).
 */
function probeClock(
  report: ((message: string) => void) | undefined,
  wait: { what: string; limitMs: number },
) {
  let probing = report !== undefined;
  const start = systemClock.now();
  const clock: Clock = {
    now: () => systemClock.now(),
    sleep: (ms) => {
      if (probing) {
        const waited = Math.round((systemClock.now() - start) / 1000);
        report!(`waiting for ${wait.what}, ${waited} s of ${wait.limitMs / 1000} s`);
      }
      return systemClock.sleep(ms);
    },
  };
  return {
    clock,
    done: () => {
      probing = false;
    },
  };
}

export async function buildDevice(opts: DeviceOptions): Promise<BuiltDevice> {
  const profile = getProfile(opts.profile);
  const memSize = opts.memSize ?? profile.memSize;
  const memory = opts.memoryFile
    ? FileMemory.openFile(opts.memoryFile, memSize, {
        allowForeign: opts.allowForeignMemoryFile ?? false,
        sync: opts.sync ?? 'shutdown',
      })
    : FileMemory.anonymous(
        memSize,
        `nvgrace-${opts.profile}${opts.memoryLabel ? `-${opts.memoryLabel}` : ''}`,
      );
  const policies = {
    ...UPSTREAM_POLICIES,
    ...(opts.mse ? { mse: opts.mse } : {}),
    ...(opts.layout ? { layout: opts.layout } : {}),
  };
  try {
    const card = createCard({
      profile: opts.profile,
      memSize,
      memory,
      clock: systemClock,
      readyDelayMs: opts.readyDelayMs ?? 0,
      ...(opts.cxlTimeoutS !== undefined
        ? { cxlMemActiveTimeoutField: CXL_TIMEOUT_SECONDS.indexOf(opts.cxlTimeoutS) }
        : {}),
      resetDurationMs: opts.resetDurationMs ?? 0,
      acpiMemSize: opts.acpi === 'absent' ? null : opts.acpi === 'zero' ? 0 : undefined,
      // The emulator identity block (BAR0 + 0xFFF100) tells `inspect` what is served.
      identity: { bandCode: bandCode(opts.kernel), policyCode: policyCode(policies) },
    });
    const cxlMemActiveMs = card.profile.cxlDvsec
      ? cxlMemActiveTimeoutMs(card.profile.cxlDvsec.memActiveTimeoutField)
      : null;
    const probe = probeClock(opts.onProbeWait, probeWait(opts.kernel, cxlMemActiveMs));
    const device = await createNvgraceDevice({
      card,
      kernel: opts.kernel,
      clock: probe.clock,
      policies,
    });
    probe.done();
    const bars = summarizeBars(device);
    const summary: DeviceSummary = {
      name: device.name,
      profile: profile.name,
      description: profile.description,
      vendorId: card.vendorId,
      deviceId: card.deviceId,
      kernel: opts.kernel,
      memSize,
      servedMemory: bars.reduce((n, b) => n + (b.memory ?? 0), 0),
      memoryFile: opts.memoryFile,
      bars,
      gate:
        device instanceof NvgraceDevice
          ? {
              band: opts.kernel,
              cxlMemActiveTimeoutMs: cxlMemActiveMs,
              readyAfterResetMs: (opts.resetDurationMs ?? 0) + (opts.readyDelayMs ?? 0),
            }
          : null,
    };
    const core = device instanceof NvgraceDevice ? device.core : (device as VfioPciDevice);
    return { device, card, core, summary, close: () => memory.close() };
  } catch (e) {
    memory.close();
    throw e;
  }
}

/** Indexes that can be BARs or device memory: 0..5, then the device-specific ones (≥ 9). */
function regionIndexes(device: VfioDevice): number[] {
  const out = [0, 1, 2, 3, 4, 5];
  for (let i = PciRegion.NUM_REGIONS; i < device.deviceInfo().numRegions; i++) out.push(i);
  return out;
}

/** Each served region, labelled from its region info (region-labels.ts), as a VMM sees it. */
export function summarizeBars(device: VfioDevice): BarSummary[] {
  const bars: BarSummary[] = [];
  const served = regionIndexes(device).map((i) => servedRegion(device.regionInfo(i, 4096)));
  for (const r of served) {
    const label = labelRegion(r);
    if (!label) continue;
    bars.push({
      index: r.index,
      kind: label.kind,
      size: r.size,
      ...(label.memory !== undefined ? { memory: label.memory } : {}),
      mappable: device.mapping(r.index) !== null,
    });
  }
  return bars;
}
