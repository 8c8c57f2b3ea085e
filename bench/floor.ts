/**
 * The floor: the cheapest vfio-user responder this transport allows, to compare the real
 * server against. `node dist/bench/floor.js --socket-path P`
 *
 * Answers VERSION (0.0 + a fixed capabilities JSON), DEVICE_GET_INFO (fixed counts),
 * DEVICE_GET_REGION_INFO (every region 16 MiB, read/write, as the C floor), REGION_READ (zeros, no backing store) and REGION_WRITE (data dropped, full count), every
 * other command with a header-only EINVAL error; honours No_reply. Does its own framing on
 * purpose (no protocol layer): header = u16 id, u16 command, u32 size, u32 flags, u32 error.
 * A frame split over several chunks is assembled in one preallocated buffer (each byte copied
 * once); whole frames are handled in place, straight from the transport's chunk.
 */
import { native } from '../src/native/addon.js';
import type { Connection } from '../src/vfio-user/transport/types.js';
import { listenUnix } from '../src/vfio-user/transport/unix-socket.js';

const HEADER = 16;
const VERSION = 1;
const DEVICE_GET_INFO = 4;
const DEVICE_GET_REGION_INFO = 5;
const REGION_SIZE = 16 * 2 ** 20;
const REGION_READ = 9;
const REGION_WRITE = 10;
const TYPE_REPLY = 1;
const NO_REPLY = 0x10;
const ERROR = 0x20;
const EINVAL = 22;
const MAX_XFER = 1 << 20;
const MAX_MSG = HEADER + 16 + MAX_XFER;

const CAPS = Buffer.from(
  '{"capabilities":{"max_msg_fds":8,"max_data_xfer_size":1048576,"pgsizes":4096}}\0',
);
const ZEROS = Buffer.alloc(MAX_XFER);

function header(out: Buffer, id: number, cmd: number, size: number, flags: number, err: number) {
  out.writeUInt16LE(id, 0);
  out.writeUInt16LE(cmd, 2);
  out.writeUInt32LE(size, 4);
  out.writeUInt32LE(flags, 8);
  out.writeUInt32LE(err, 12);
}

function errorReply(conn: Connection, id: number, cmd: number): void {
  const h = Buffer.allocUnsafe(HEADER);
  header(h, id, cmd, HEADER, TYPE_REPLY | ERROR, EINVAL);
  conn.send(h);
}

function handle(conn: Connection, buf: Buffer, pos: number, size: number): void {
  const id = buf.readUInt16LE(pos);
  const cmd = buf.readUInt16LE(pos + 2);
  const flags = buf.readUInt32LE(pos + 8);
  if (flags & NO_REPLY) return;
  if ((cmd === REGION_READ || cmd === REGION_WRITE) && size >= HEADER + 16) {
    const count = buf.readUInt32LE(pos + HEADER + 12);
    const isRead = cmd === REGION_READ;
    if (count > MAX_XFER || size !== HEADER + 16 + (isRead ? 0 : count)) {
      errorReply(conn, id, cmd);
      return;
    }
    const h = Buffer.allocUnsafe(HEADER + 16);
    header(h, id, cmd, HEADER + 16 + (isRead ? count : 0), TYPE_REPLY, 0);
    buf.copy(h, HEADER, pos + HEADER, pos + HEADER + 16);
    conn.send(isRead && count > 0 ? [h, ZEROS.subarray(0, count)] : h);
    return;
  }
  if (cmd === VERSION && size >= HEADER + 4) {
    const h = Buffer.allocUnsafe(HEADER + 4);
    header(h, id, cmd, HEADER + 4 + CAPS.length, TYPE_REPLY, 0);
    h.writeUInt32LE(0, HEADER); // major 0, minor 0
    conn.send([h, CAPS]);
    return;
  }
  if (cmd === DEVICE_GET_INFO && size === HEADER + 16) {
    const h = Buffer.allocUnsafe(HEADER + 16);
    header(h, id, cmd, HEADER + 16, TYPE_REPLY, 0);
    h.writeUInt32LE(16, HEADER); // argsz
    h.writeUInt32LE(3, HEADER + 4); // flags: PCI | RESET
    h.writeUInt32LE(9, HEADER + 8); // regions
    h.writeUInt32LE(5, HEADER + 12); // irqs
    conn.send(h);
    return;
  }
  if (cmd === DEVICE_GET_REGION_INFO && size >= HEADER + 32) {
    const h = Buffer.alloc(HEADER + 32);
    header(h, id, cmd, HEADER + 32, TYPE_REPLY, 0);
    const index = buf.readUInt32LE(pos + HEADER + 8);
    h.writeUInt32LE(32, HEADER); // argsz
    h.writeUInt32LE(3, HEADER + 4); // flags: READ | WRITE
    h.writeUInt32LE(index, HEADER + 8);
    h.writeBigUInt64LE(BigInt(REGION_SIZE), HEADER + 16);
    h.writeBigUInt64LE(BigInt(index) << 40n, HEADER + 24);
    conn.send(h);
    return;
  }
  errorReply(conn, id, cmd);
}

function serve(conn: Connection): void {
  // A frame that spans chunks: assembled here, `have` bytes so far, `need` in total (0: none).
  const partial = Buffer.allocUnsafe(MAX_MSG);
  let have = 0;
  let need = 0;
  conn.onData((chunk, fds) => {
    for (const fd of fds) native().closeFd(fd);
    let pos = 0;
    if (have > 0) {
      // Complete the header first if even that was split, then the body.
      if (have < HEADER) {
        const n = Math.min(HEADER - have, chunk.length);
        chunk.copy(partial, have, 0, n);
        have += n;
        pos = n;
        if (have < HEADER) return;
        need = partial.readUInt32LE(4);
        if (need < HEADER || need > MAX_MSG) return conn.close();
      }
      const n = Math.min(need - have, chunk.length - pos);
      chunk.copy(partial, have, pos, pos + n);
      have += n;
      pos += n;
      if (have < need) return;
      handle(conn, partial, 0, need);
      have = 0;
    }
    while (chunk.length - pos >= HEADER) {
      const size = chunk.readUInt32LE(pos + 4);
      if (size < HEADER || size > MAX_MSG) return conn.close();
      if (chunk.length - pos < size) break;
      handle(conn, chunk, pos, size);
      pos += size;
    }
    if (pos < chunk.length) {
      have = chunk.copy(partial, 0, pos);
      need = have >= HEADER ? partial.readUInt32LE(4) : 0;
      if (have >= HEADER && (need < HEADER || need > MAX_MSG)) conn.close();
    }
  });
}

function main(): void {
  const i = process.argv.indexOf('--socket-path');
  const path = i >= 0 ? process.argv[i + 1] : undefined;
  if (!path) {
    process.stderr.write('usage: node dist/bench/floor.js --socket-path PATH\n');
    process.exit(2);
  }
  const listener = listenUnix(path);
  listener.onConnection(serve);
  const stop = () => {
    listener.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`floor listening on ${path}\n`);
}

main();
