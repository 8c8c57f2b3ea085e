/**
 * The start-up banner of `serve`: the device served (ids, each BAR with kind and size, real
 * vs padded memory) and a QEMU command line that attaches it. Pure: summary in, text out.
 */
import type { DeviceSummary } from './build-device.js';
import { qemuCommand, shellJoin } from './qemu-cmdline.js';
import { formatSize } from './size.js';

const hex4 = (v: number) => v.toString(16).padStart(4, '0');

export function formatBanner(
  s: DeviceSummary,
  where: { socketPath: string | undefined; guestMemory?: number | undefined },
): string {
  const lines: string[] = [];
  const ids = `${hex4(s.vendorId)}:${hex4(s.deviceId)}`;
  // Profile descriptions name their ids already; an overridden profile may not.
  lines.push(
    `nvgrace-user: serving ${s.description}${s.description.includes(ids) ? '' : ` [${ids}]`}`,
  );
  lines.push(`  driver model: ${s.name}, host kernel band ${s.kernel}`);
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
    lines.push(
      `  BAR${b.index}: ${formatSize(b.size)} 64-bit prefetchable, ${b.kind}${mem}${b.mappable ? ', mmap through fd' : ', trapped'}`,
    );
  }
  lines.push(`  socket: ${where.socketPath ?? '(inherited fd)'}`);
  if (where.socketPath) {
    const cmd = qemuCommand({
      socketPath: where.socketPath,
      barSizes: s.bars.map((b) => b.size),
      ...(where.guestMemory ? { guestMemory: where.guestMemory } : {}),
    });
    lines.push('');
    lines.push('Attach it with QEMU >= 10.1 (add your disk/kernel options):');
    lines.push(`  ${shellJoin(cmd.argv)}`);
  }
  return `${lines.join('\n')}\n`;
}
