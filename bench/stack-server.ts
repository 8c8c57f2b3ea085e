/**
 * A profiling aid, not part of `npm run bench`: the real vfio-user server stack (transport,
 * FrameReader, session, dispatch, handlers) over a trivial device — 9 regions of 16 MiB, BAR4
 * backed by a FileMemory memfd (pread/pwrite, as the real device memory), the others zeros.
 * It separates the protocol stack's cost from the device model's.
 * `node dist/bench/stack-server.js --socket-path P`
 */
import { FileMemory, nodeHostOps } from '../src/host/index.js';
import type { VfioDevice } from '../src/vfio/device.js';
import { ServerEndpoint } from '../src/vfio-user/server/endpoint.js';
import { listenUnix } from '../src/vfio-user/transport/unix-socket.js';

const SIZE = 16 * 2 ** 20;

function stubDevice(): VfioDevice {
  const mem = FileMemory.anonymous(SIZE, 'bench-stack');
  const device: VfioDevice = {
    name: 'stub',
    open() {},
    close() {},
    deviceInfo: () => ({ flags: 3, numRegions: 9, numIrqs: 5 }),
    regionInfo: (index: number) => ({
      argsz: 32,
      flags: 3,
      index,
      capOffset: 0,
      size: BigInt(SIZE),
      offset: BigInt(index) << 40n,
      caps: new Uint8Array(0),
    }),
    irqInfo: (index: number) => ({ flags: 1, index, count: 1 }),
    setIrqs() {},
    readView(index: number, offset: number, length: number) {
      return index === 4 && offset + length <= SIZE ? mem.view(offset, length) : null;
    },
    readInto(index: number, offset: number, target: Uint8Array) {
      if (index === 4) mem.readInto(offset, target);
      else target.fill(0);
      return target.length;
    },
    write(index: number, offset: number, data: Uint8Array) {
      if (index === 4) mem.write(offset, data);
      return data.length;
    },
    reset() {},
    mapping: () => null,
    setDmaSpace() {},
  };
  return device;
}

const i = process.argv.indexOf('--socket-path');
const path = i >= 0 ? process.argv[i + 1] : undefined;
if (!path) {
  process.stderr.write('usage: node dist/bench/stack-server.js --socket-path PATH\n');
  process.exit(2);
}
const endpoint = new ServerEndpoint(listenUnix(path), { device: stubDevice(), host: nodeHostOps });
const stop = () => void endpoint.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
