/**
 * `--format json`: exactly {"binary":"qemu-system-<arch>","args":[...]}, so CI can append
 * its kernel and disk options and exec it. Pure.
 */
import type { QemuLaunch } from './qemu-args.js';

export function formatJson(q: QemuLaunch): string {
  return `${JSON.stringify({ binary: q.binary, args: q.args })}\n`;
}
