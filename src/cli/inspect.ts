/**
 * `inspect SOCKET`: connect as a VMM would, gather everything (inspect-gather.ts) and
 * render it (inspect-format.ts), print it as JSON (config space as one hex string), or
 * print config space as `lspci -xxxx` does (--hex, for `lspci -F FILE -vvv`).
 */

import { native } from '../native/addon.js';
import { VfioUserClient } from '../vfio-user/client/client.js';
import { connectUnix } from '../vfio-user/transport/index.js';
import { formatInspect } from './inspect-format.js';
import { gatherInspect } from './inspect-gather.js';
import { configHex, formatLspciHex } from './inspect-hex.js';

export async function runInspect(
  socket: string,
  opts: { json: boolean; timeoutMs: number; hex?: boolean },
): Promise<string> {
  const conn = await connectUnix(socket);
  const closeFd = (fd: number) => native().closeFd(fd);
  const client = new VfioUserClient(conn, { closeFd, timeoutMs: opts.timeoutMs });
  try {
    const report = await gatherInspect(client, closeFd);
    if (opts.hex) return formatLspciHex(report.config);
    if (opts.json) {
      return `${JSON.stringify({ ...report, config: configHex(report.config) }, null, 2)}\n`;
    }
    return formatInspect(report);
  } finally {
    client.close();
  }
}
