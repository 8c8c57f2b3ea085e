/**
 * `--format shell`: the QEMU command line, POSIX-quoted, one option per line, ending in a
 * continuation line that says where the user's own options (kernel, disk, console) go, so
 * the text can be pasted and extended as is. Pure.
 */
import { shellJoin } from '../qemu-cmdline.js';
import type { QemuLaunch } from './qemu-args.js';

export const USER_OPTIONS_MARK = '# … your kernel, disk, console and network options here';

export function formatShell(q: QemuLaunch): string {
  return `${shellJoin([q.binary, ...q.args])} \\\n  ${USER_OPTIONS_MARK}\n`;
}
