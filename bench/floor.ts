/**
 * The floor: the cheapest vfio-user responder this transport allows, to compare the real
 * server against. `node dist/bench/floor.js --socket-path P`
 *
 * Answers VERSION (0.0 + a fixed capabilities JSON) and REGION_READ (zeros), every other
 * command with a header-only EINVAL error; honours No_reply. Does its own framing on purpose
 * (no protocol layer): header = u16 id, u16 command, u32 size, u32 flags, u32 error.
 */
import { native } from '../src/vfio-user/transport/native.js';
import type { Connection } from '../src/vfio-user/transport/types.js';
import { listenUnix } from '../src/vfio-user/transport/unix-socket.js';

const HEADER = 16;
const VERSION = 1;
const REGION_READ = 9;
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
  if (cmd === REGION_READ && size === HEADER + 16) {
    const count = buf.readUInt32LE(pos + HEADER + 12);
    if (count > MAX_XFER) {
      errorReply(conn, id, cmd);
      return;
    }
    const h = Buffer.allocUnsafe(HEADER + 16);
    header(h, id, cmd, HEADER + 16 + count, TYPE_REPLY, 0);
    buf.copy(h, HEADER, pos + HEADER, pos + HEADER + 16);
    conn.send(count > 0 ? [h, ZEROS.subarray(0, count)] : h);
    return;
  }
  if (cmd === VERSION && size >= HEADER + 4) {
    const h = Buffer.allocUnsafe(HEADER + 4);
    header(h, id, cmd, HEADER + 4 + CAPS.length, TYPE_REPLY, 0);
    h.writeUInt32LE(0, HEADER); // major 0, minor 0
    conn.send([h, CAPS]);
    return;
  }
  errorReply(conn, id, cmd);
}

function serve(conn: Connection): void {
  let pending: Buffer | null = null;
  conn.onData((chunk, fds) => {
    for (const fd of fds) native().closeFd(fd);
    const buf: Buffer = pending ? Buffer.concat([pending, chunk]) : chunk;
    let pos = 0;
    while (buf.length - pos >= HEADER) {
      const size = buf.readUInt32LE(pos + 4);
      if (size < HEADER || size > MAX_MSG) {
        conn.close();
        return;
      }
      if (buf.length - pos < size) break;
      handle(conn, buf, pos, size);
      pos += size;
    }
    pending = pos < buf.length ? Buffer.from(buf.subarray(pos)) : null;
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
