/**
 * Composition of one served device: the memory backing (memfd or `--memory-file`), the
 * physical card of the chosen profile, and the nvgrace-gpu variant on top of the vfio-pci
 * core for the chosen kernel band. Also derives the summary the banner prints, from the
 * VfioDevice interface alone (what a VMM would see).
 */

import { FileMemory } from '../host/index.js';
import { systemClock } from '../host/system-clock.js';
import { createCard, getProfile, type ProfileName } from '../hw/index.js';
import { createNvgraceDevice, type KernelBand } from '../nvgrace/index.js';
import type { VfioDevice } from '../vfio/device.js';

export interface DeviceOptions {
  profile: ProfileName;
  memSize?: number;
  kernel: KernelBand;
  memoryFile?: string;
  readyDelayMs?: number;
  resetDurationMs?: number;
  /** ACPI gpu-mem-size: 'present' (default), 'absent' or 'zero' (both make the driver fall back to plain vfio-pci). */
  acpi?: 'present' | 'absent' | 'zero';
}

export interface BarSummary {
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
  memoryFile: string | undefined;
  bars: BarSummary[];
}

export interface BuiltDevice {
  device: VfioDevice;
  summary: DeviceSummary;
  close(): void;
}

const BAR_KINDS: Record<number, string> = {
  0: 'registers (BAR0)',
  2: 'device memory "resmem" (uncached)',
  4: 'device memory "usemem" (cacheable)',
};

export async function buildDevice(opts: DeviceOptions): Promise<BuiltDevice> {
  const profile = getProfile(opts.profile);
  const memSize = opts.memSize ?? profile.memSize;
  const memory = opts.memoryFile
    ? FileMemory.openFile(opts.memoryFile, memSize)
    : FileMemory.anonymous(memSize, `nvgrace-${opts.profile}`);
  try {
    const card = createCard({
      profile: opts.profile,
      memSize,
      memory,
      clock: systemClock,
      readyDelayMs: opts.readyDelayMs ?? 0,
      resetDurationMs: opts.resetDurationMs ?? 0,
      acpiMemSize: opts.acpi === 'absent' ? null : opts.acpi === 'zero' ? 0 : undefined,
    });
    const device = await createNvgraceDevice({ card, kernel: opts.kernel, clock: systemClock });
    const summary: DeviceSummary = {
      name: device.name,
      profile: profile.name,
      description: profile.description,
      vendorId: card.vendorId,
      deviceId: card.deviceId,
      kernel: opts.kernel,
      memSize,
      memoryFile: opts.memoryFile,
      bars: summarizeBars(device, card.profile.migHwBug),
    };
    return { device, summary, close: () => memory.close() };
  } catch (e) {
    memory.close();
    throw e;
  }
}

function summarizeBars(device: VfioDevice, hopper: boolean): BarSummary[] {
  const bars: BarSummary[] = [];
  for (let i = 0; i < 6; i++) {
    const info = device.regionInfo(i, 4096);
    if (info.size === 0n) continue;
    const mapping = device.mapping(i);
    const area = mapping?.areas.reduce((n, a) => n + a.size, 0);
    // On Blackwell index 2 is the card's real BAR1, not the resmem carve-out.
    const kind = i === 2 && !hopper ? 'real BAR1 aperture' : (BAR_KINDS[i] ?? 'BAR');
    bars.push({
      index: i,
      kind,
      size: Number(info.size),
      ...(area !== undefined ? { memory: area } : {}),
      mappable: mapping !== null,
    });
  }
  return bars;
}
