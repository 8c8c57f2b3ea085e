/**
 * `inspect SOCKET`: connect as a VMM would, gather everything (inspect-gather.ts) and
 * render it (inspect-format.ts) or print it as JSON.
 */

import { native } from '../native/addon.js';
import { VfioUserClient } from '../vfio-user/client/client.js';
import { connectUnix } from '../vfio-user/transport/index.js';
import { formatInspect } from './inspect-format.js';
import { gatherInspect } from './inspect-gather.js';

export async function runInspect(
  socket: string,
  opts: { json: boolean; timeoutMs: number },
): Promise<string> {
  const conn = await connectUnix(socket);
  const closeFd = (fd: number) => native().closeFd(fd);
  const client = new VfioUserClient(conn, { closeFd, timeoutMs: opts.timeoutMs });
  try {
    const report = await gatherInspect(client, closeFd);
    return opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspect(report);
  } finally {
    client.close();
  }
}
