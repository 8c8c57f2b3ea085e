/**
 * Fixture for the re-attach test (not a test file): connects to the socket given as argv[2],
 * negotiates VERSION, prints "attached" and waits to be killed.
 */

import { QEMU_CAPABILITIES } from '../../src/vfio-user/client/client.js';
import { encodeVersion } from '../../src/vfio-user/protocol/index.js';
import { connectUnix } from '../../src/vfio-user/transport/index.js';

const conn = await connectUnix(process.argv[2]!);
conn.onData(() => {
  process.stdout.write('attached\n');
});
conn.send(encodeVersion(1, 0, 0, QEMU_CAPABILITIES));
setInterval(() => {}, 1 << 30);
