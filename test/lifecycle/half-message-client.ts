/**
 * Fixture for the "client killed mid-message" test (not a test file): connects to the socket
 * given as argv[2], negotiates VERSION, then sends the first half of a 64 KiB REGION_WRITE to
 * BAR4 at offset argv[3] (bytes 0xA5), prints "sent" and waits to be killed.
 */

import { QEMU_CAPABILITIES } from '../../src/vfio-user/client/client.js';
import { encodeRegionWrite, encodeVersion } from '../../src/vfio-user/protocol/index.js';
import { connectUnix } from '../../src/vfio-user/transport/index.js';

const [path, offset] = [process.argv[2]!, Number(process.argv[3])];
const conn = await connectUnix(path);
conn.onData(() => {
  const write = encodeRegionWrite(2, 4, offset, new Uint8Array(65536).fill(0xa5));
  conn.send(Buffer.from(write.buffer, write.byteOffset, 16 + 16 + 32768));
  process.stdout.write('sent\n');
});
const v = encodeVersion(1, 0, 0, QEMU_CAPABILITIES);
conn.send(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
setInterval(() => {}, 1 << 30);
