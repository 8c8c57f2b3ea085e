/**
 * The start-up banner of `serve`: the device served (ids, each BAR with kind and size, real
 * vs padded memory) and a QEMU command line that attaches it; with --socket-dir, every GPU
 * (index, socket, memory, BARs) and the `vm-config` line that attaches them all. Pure:
 * summaries in, text out.
 */
import type { DeviceSummary } from './build-device.js';
import type { GpuInstance } from './gpu-set.js';
import { qemuCommand, shellJoin } from './qemu-cmdline.js';
import { formatSize } from './size.js';

const hex4 = (v: number) => v.toString(16).padStart(4, '0');

/** A profile description without its trailing memory size ("…, 96 GiB HBM3"): the headline
 * states the memory actually served instead. */
export function profileTitle(description: string): string {
  return description.replace(/,\s*[\d.]+\s*[KMGT]i?B\b[^,]*$/, '');
}

/** The headline's memory part, from what is served (not from the profile). */
export function memoryHeadline(s: DeviceSummary): string {
  if (s.servedMemory === 0) {
    return 'no device memory exposed (plain vfio-pci fallback: ACPI gpu-mem-size absent or 0)';
  }
  return `${formatSize(s.servedMemory)} device memory exposed`;
}

/** Every setting that changes behaviour, as the banner echoes it. */
export interface BehaviourSettings {
  kernel: string;
  readyDelayMs?: number | undefined;
  resetDurationMs?: number | undefined;
  acpi?: string | undefined;
  memoryFile?: string | undefined;
  sync?: string | undefined;
  handshakeMs?: number | undefined;
}

/** One line naming each behaviour-changing setting and its value (defaults included). */
export function settingsLine(o: BehaviourSettings): string {
  const parts = [
    `band ${o.kernel}`,
    `ready delay ${o.readyDelayMs ?? 0} ms`,
    `reset duration ${o.resetDurationMs ?? 0} ms`,
    `ACPI gpu-mem-size ${o.acpi ?? 'present'}`,
    o.memoryFile
      ? `memory file ${o.memoryFile} (sync ${o.sync ?? 'shutdown'})`
      : 'memory anonymous',
    `handshake timeout ${o.handshakeMs ?? 10000} ms`,
  ];
  return `  settings: ${parts.join(', ')}`;
}

/** Stands for the socket path in the QEMU line when serving an inherited fd (--fd). */
export const SOCKET_PLACEHOLDER = '<SOCKET-PATH>';

export function formatBanner(
  s: DeviceSummary,
  where: {
    socketPath: string | undefined;
    guestMemory?: number | undefined;
    settings?: BehaviourSettings | undefined;
    /** The QEMU line's x-msg-timeout (msg-timeout.ts); undefined: QEMU's default. */
    msgTimeoutMs?: number | undefined;
  },
): string {
  const lines: string[] = [];
  const ids = `${hex4(s.vendorId)}:${hex4(s.deviceId)}`;
  // Profile descriptions name their ids already; an overridden profile may not.
  const title = profileTitle(s.description);
  lines.push(
    `nvgrace-user: serving ${title}${title.includes(ids) ? '' : ` [${ids}]`}, ${memoryHeadline(s)}`,
  );
  lines.push(`  driver model: ${s.name}, host kernel band ${s.kernel}`);
  if (where.settings) lines.push(settingsLine(where.settings));
  lines.push(
    `  device memory: ${formatSize(s.memSize)} (${s.memSize} bytes)${s.memoryFile ? ` in ${s.memoryFile}` : ', anonymous memfd'}`,
  );
  for (const b of s.bars) {
    const mem =
      b.memory === undefined
        ? ''
        : b.memory < b.size
          ? `, real memory ${formatSize(b.memory)}, padding ${formatSize(b.size - b.memory)} reads 0xFF`
          : `, real memory ${formatSize(b.memory)} (no padding)`;
    const what =
      b.index <= 5
        ? `BAR${b.index}: ${formatSize(b.size)} 64-bit prefetchable`
        : `region ${b.index}: ${formatSize(b.size)} mmap-only`;
    lines.push(`  ${what}, ${b.kind}${mem}${b.mappable ? ', mmap through fd' : ', trapped'}`);
  }
  lines.push(`  socket: ${where.socketPath ?? '(inherited fd)'}`);
  const cmd = qemuCommand({
    socketPath: where.socketPath ?? SOCKET_PLACEHOLDER,
    barSizes: s.bars.filter((b) => b.index <= 5).map((b) => b.size),
    ...(where.guestMemory ? { guestMemory: where.guestMemory } : {}),
    msgTimeoutMs: where.msgTimeoutMs,
  });
  lines.push('');
  lines.push(
    where.socketPath
      ? 'Attach it with QEMU >= 10.1 (add your disk/kernel options):'
      : `Attach it with QEMU >= 10.1 (put the inherited socket's path for ${SOCKET_PLACEHOLDER}; add your disk/kernel options):`,
  );
  lines.push(`  ${shellJoin(cmd.argv)}`);
  return `${lines.join('\n')}\n`;
}

/** The banner of a --socket-dir server: every GPU on one line, then how to attach them. */
export function formatSetBanner(
  gpus: readonly Pick<GpuInstance, 'index' | 'socketPath' | 'summary'>[],
  settings?: BehaviourSettings,
): string {
  const first = gpus[0]!.summary;
  const lines = [`nvgrace-user: serving ${gpus.length} × ${profileTitle(first.description)}`];
  lines.push(`  driver model: ${first.name}, host kernel band ${first.kernel}`);
  if (settings) lines.push(settingsLine(settings));
  for (const g of gpus) {
    const bars = g.summary.bars
      .map((b) => `${b.index <= 5 ? 'BAR' : 'region '}${b.index} ${formatSize(b.size)}`)
      .join(', ');
    lines.push(
      `  gpu${g.index}: ${g.socketPath ?? '(inherited fd)'}, ${g.summary.servedMemory > 0 ? `device memory ${formatSize(g.summary.servedMemory)} served` : 'no device memory served (plain vfio-pci fallback)'} (own anonymous memfd), ${bars}`,
    );
  }
  lines.push('');
  lines.push('Print a QEMU >= 10.1 launch config attaching them all (see docs/topologies.md):');
  lines.push(`  nvgrace-user vm-config ${gpus.map((g) => g.socketPath ?? '').join(' ')}`);
  return `${lines.join('\n')}\n`;
}
