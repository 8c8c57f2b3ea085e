import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../src/uapi/errno.js';
import {
  Command,
  DmaUnmapFlags,
  decodeDmaUnmapReply,
  decodeGetRegionIoFdsReply,
  decodeRegionReadReply,
  decodeRegionWriteMultiReply,
  decodeVersionReply,
  encodeCommand,
  encodeDeviceFeature,
  encodeDeviceGetInfo,
  encodeDeviceReset,
  encodeDmaMap,
  encodeDmaUnmap,
  encodeGetRegionInfo,
  encodeGetRegionIoFds,
  encodeHeader,
  encodeMigDataRead,
  encodeRegionRead,
  encodeRegionWrite,
  encodeRegionWriteMulti,
  encodeSetIrqs,
  encodeVersionPayload,
  HeaderFlags,
  IrqSetFlags,
  RemoteError,
} from '../../src/vfio-user/protocol/index.js';
import type { Reply } from '../../src/vfio-user/server/host.js';
import { asFrame, type Harness, harness, qemuVersion } from './helpers.js';

function ready(options = {}): Harness {
  const h = harness(options);
  h.sendSync(qemuVersion(0));
  return h;
}

function assertError(r: Reply | null, errno: number): void {
  assert.ok(r, 'expected an error reply');
  const f = asFrame(r);
  assert.equal(r.bytes.length, 16, 'error replies are header-only');
  assert.equal(f.header.flags, HeaderFlags.TYPE_REPLY | HeaderFlags.ERROR);
  assert.notEqual(f.header.error, 0);
  assert.equal(f.header.error, errno);
  assert.deepEqual(r.fds, []);
}

function versionWith(json: string | null, msgId = 0, major = 0, minor = 0): Uint8Array {
  return encodeCommand(msgId, Command.VERSION, encodeVersionPayload(major, minor, json));
}

describe('VERSION negotiation', () => {
  it('a command before VERSION gets EINVAL and VERSION still works afterwards', () => {
    const h = harness();
    assertError(h.sendSync(encodeDeviceGetInfo(1)), Errno.EINVAL);
    assert.equal(h.session.wantsClose, false);
    assert.equal(decodeVersionReply(asFrame(h.sendSync(qemuVersion(2)))).major, 0);
  });
  it('VERSION twice gets EINVAL and the session continues', () => {
    const h = ready();
    assertError(h.sendSync(qemuVersion(5)), Errno.EINVAL);
    assert.equal(h.session.wantsClose, false);
    assert.equal(asFrame(h.sendSync(encodeDeviceGetInfo(6))).payload.length, 16);
  });
  for (const [name, json, major] of [
    ['JSON that does not parse', '{"capabilities": ', 0],
    ['JSON that is not an object', '[1,2]', 0],
    ['capabilities that are not an object', '{"capabilities": 3}', 0],
    ['max_msg_fds out of range', '{"capabilities": {"max_msg_fds": 5000}}', 0],
    ['a non-integer max_data_xfer_size', '{"capabilities": {"max_data_xfer_size": "big"}}', 0],
    ['write_multiple that is not a bool', '{"capabilities": {"write_multiple": 1}}', 0],
    ['major 1', '{}', 1],
  ] as const) {
    it(`${name} → EINVAL and the session asks to disconnect`, () => {
      const h = harness();
      assertError(h.sendSync(versionWith(json, 3, major)), Errno.EINVAL);
      assert.equal(h.session.wantsClose, true);
      assert.equal(h.session.peer, null);
    });
  }
  it('JSON without its NUL terminator → EINVAL and disconnect', () => {
    const h = harness();
    const payload = encodeVersionPayload(0, 0, '{}');
    assertError(
      h.sendSync(encodeCommand(0, Command.VERSION, payload.subarray(0, payload.length - 1))),
      Errno.EINVAL,
    );
    assert.equal(h.session.wantsClose, true);
  });
  it('the reply never exceeds the request, shrinking the JSON, and keeps a NUL last', () => {
    for (const json of [
      null,
      '{}',
      '{"capabilities":{}}',
      '{"capabilities":{"max_msg_fds":16,"pgsizes":4096}}',
      `${' '.repeat(60)}{}`,
    ]) {
      const h = harness();
      const req = versionWith(json);
      const r = h.sendSync(req)!;
      assert.ok(
        r.bytes.length <= req.length,
        `reply ${r.bytes.length} > request ${req.length} for ${json}`,
      );
      const v = decodeVersionReply(asFrame(r));
      assert.notEqual(v.capabilities.pgsizes, 0);
      if (r.bytes.length > 20) assert.equal(r.bytes[r.bytes.length - 1], 0);
    }
  });
  it('a client that omits max_msg_fds is assumed to take 1 fd (spec default)', () => {
    const h = harness();
    h.sendSync(versionWith('{}'));
    assert.equal(h.session.peer?.maxMsgFds, 1);
    assert.equal(h.session.peer?.maxDataXferSize, 1 << 20);
  });
  it('minor is min(client minor, 0)', () => {
    const h = harness();
    assert.equal(decodeVersionReply(asFrame(h.sendSync(versionWith('{}', 0, 0, 7)))).minor, 0);
  });
  it('fds on VERSION → EINVAL and the fds are closed', () => {
    const h = harness();
    assertError(h.sendSync(qemuVersion(0), [9]), Errno.EINVAL);
    assert.deepEqual(h.host.closedFds, [9]);
  });
});

describe('No_reply and error replies', () => {
  it('a posted region write is executed and never answered', () => {
    const h = ready();
    assert.equal(h.sendSync(encodeRegionWrite(1, 0, 8, Uint8Array.of(1, 2, 3, 4), true)), null);
    assert.deepEqual(h.device.writes.at(-1), { index: 0, offset: 8, data: [1, 2, 3, 4] });
  });
  it('a failing posted write is not answered either, only logged', () => {
    const h = ready();
    assert.equal(h.sendSync(encodeRegionWrite(1, 20, 0, Uint8Array.of(1), true)), null);
    assert.equal(h.sendSync(encodeRegionWrite(2, 0, 1 << 30, Uint8Array.of(1), true)), null);
    assert.ok(h.logs.some((l) => l.includes('region index 20')));
  });
  it('an unknown command gets EINVAL and the session continues', () => {
    const h = ready();
    assertError(h.sendSync(encodeCommand(7, 99, Uint8Array.of(1, 2, 3))), Errno.EINVAL);
    assertError(h.sendSync(encodeCommand(8, Command.DIRTY_PAGES, new Uint8Array(8))), Errno.EINVAL);
    assert.equal(asFrame(h.sendSync(encodeDeviceGetInfo(9))).header.msgId, 9);
  });
  it('server-to-client commands sent by the client get EINVAL', () => {
    const h = ready();
    assertError(h.sendSync(encodeCommand(1, Command.DMA_READ, new Uint8Array(16))), Errno.EINVAL);
  });
  it('a reply from the client is dropped without answer and its fds closed', () => {
    const h = ready();
    const bytes = encodeHeader({
      msgId: 4,
      command: Command.DMA_READ,
      size: 16,
      flags: HeaderFlags.TYPE_REPLY,
      error: 0,
    });
    assert.equal(h.sendSync(bytes, [33]), null);
    assert.deepEqual(h.host.closedFds, [33]);
  });
  it('a frame with bad type bits gets EINVAL for its id', () => {
    const h = ready();
    const bytes = encodeHeader({
      msgId: 4,
      command: Command.DEVICE_GET_INFO,
      size: 16,
      flags: 2,
      error: 0,
    });
    const r = h.sendSync(bytes);
    assertError(r, Errno.EINVAL);
    assert.equal(asFrame(r).header.msgId, 4);
    assert.equal(h.session.wantsClose, false);
  });
  it('a header claiming a size beyond the cap gets an error reply for its id, then disconnect', () => {
    const h = ready();
    const bytes = encodeHeader({
      msgId: 12,
      command: Command.REGION_WRITE,
      size: 0x7fff_ffff,
      flags: 0,
      error: 0,
    });
    const r = h.sendSync(bytes, [44]);
    assertError(r, Errno.EINVAL);
    assert.equal(asFrame(r).header.msgId, 12);
    assert.equal(h.session.wantsClose, true);
    assert.equal(h.reader.bufferedBytes, 0);
    assert.deepEqual(h.host.closedFds, [44]);
  });
  it('fds on a message that takes none → EINVAL and they are closed', () => {
    const h = ready();
    assertError(h.sendSync(encodeDeviceGetInfo(1), [70, 71]), Errno.EINVAL);
    assert.deepEqual(h.host.closedFds, [70, 71]);
  });
});

describe('DMA windows', () => {
  const map = (id: number, address: bigint, size: bigint, flags = 3) =>
    encodeDmaMap(id, { flags, address, size });
  it('an exact duplicate map succeeds and closes the new fd; an overlap is EEXIST', () => {
    const h = ready();
    assert.equal(h.sendSync(map(1, 0x1000n, 0x1000n), [40])!.bytes.length, 16);
    assert.equal(h.sendSync(map(2, 0x1000n, 0x1000n), [41])!.bytes.length, 16);
    assert.deepEqual(h.host.closedFds, [41]);
    assertError(h.sendSync(map(3, 0x1800n, 0x1000n), [42]), Errno.EEXIST);
    assert.deepEqual(h.host.closedFds, [41, 42]);
    assertError(h.sendSync(map(4, 0x1000n, 0x1000n, 1)), Errno.EEXIST);
    assert.equal(h.session.dmaWindows.count, 1);
  });
  it('a full table answers ENOSPC', () => {
    const h = ready({ limits: { maxDmaMaps: 2 } });
    h.sendSync(map(1, 0n, 0x1000n));
    h.sendSync(map(2, 0x1000n, 0x1000n));
    assertError(h.sendSync(map(3, 0x2000n, 0x1000n)), Errno.ENOSPC);
  });
  it('unmap needs an exact match (ENOENT otherwise) and echoes the 24-byte struct', () => {
    const h = ready();
    h.sendSync(map(1, 0x10000n, 0x2000n), [40]);
    assertError(h.sendSync(encodeDmaUnmap(2, { address: 0x10000n, size: 0x1000n })), Errno.ENOENT);
    const r = h.sendSync(encodeDmaUnmap(3, { address: 0x10000n, size: 0x2000n }))!;
    assert.equal(r.bytes.length, 40);
    assert.deepEqual(decodeDmaUnmapReply(asFrame(r)), {
      argsz: 24,
      flags: 0,
      address: 0x10000n,
      size: 0x2000n,
    });
    assert.deepEqual(h.host.closedFds, [40]);
  });
  it('FLAG_ALL drops every window; with a non-zero address it is EINVAL', () => {
    const h = ready();
    h.sendSync(map(1, 0n, 0x1000n), [40]);
    h.sendSync(map(2, 0x4000n, 0x1000n), [41]);
    assertError(
      h.sendSync(encodeDmaUnmap(3, { flags: DmaUnmapFlags.ALL, address: 0x4000n, size: 0n })),
      Errno.EINVAL,
    );
    h.sendSync(encodeDmaUnmap(4, { flags: DmaUnmapFlags.ALL, address: 0n, size: 0n }));
    assert.equal(h.session.dmaWindows.count, 0);
    assert.deepEqual(h.host.closedFds, [40, 41]);
  });
  it('the device reaches guest memory through fd-backed windows only', () => {
    const h = ready();
    h.sendSync(map(1, 0x10000n, 0x1000n), [40]);
    h.sendSync(map(2, 0x11000n, 0x1000n), [41]);
    h.sendSync(map(3, 0x20000n, 0x1000n));
    const dma = h.device.dma!;
    dma.write(0x10ffen, Uint8Array.of(1, 2, 3, 4));
    assert.deepEqual([...dma.read(0x10ffen, 4)], [1, 2, 3, 4]);
    assert.deepEqual([...h.host.regions.get(41)!.subarray(0, 2)], [3, 4]);
    assert.throws(() => dma.read(0x20000n, 4), /EFAULT/);
    assert.throws(() => dma.read(0x30000n, 4), /EFAULT/);
  });
  it('a map with unknown flag bits or size 0 is EINVAL', () => {
    const h = ready();
    assertError(h.sendSync(map(1, 0n, 0x1000n, 0x10)), Errno.EINVAL);
    assertError(h.sendSync(map(2, 0n, 0n)), Errno.EINVAL);
  });
});

describe('region info, region I/O, interrupts, control', () => {
  it('the region fd rides only on the full reply, never on the truncated one', () => {
    const h = ready();
    assert.deepEqual(h.sendSync(encodeGetRegionInfo(1, 2, 32))!.fds, []);
    assert.deepEqual(h.sendSync(encodeGetRegionInfo(2, 2, 63))!.fds, []);
    assert.equal(h.sendSync(encodeGetRegionInfo(3, 2, 4096))!.fds.length, 1);
  });
  it('a client that takes no fds gets no MMAP', () => {
    const h = harness();
    h.sendSync(versionWith('{"capabilities":{"max_msg_fds":0}}'));
    const r = h.sendSync(encodeGetRegionInfo(3, 2, 4096))!;
    assert.deepEqual(r.fds, []);
    assert.equal(asFrame(r).payload[4]! & 4, 0);
  });
  it('region index out of range → EINVAL', () => {
    const h = ready();
    assertError(h.sendSync(encodeGetRegionInfo(1, 9, 32)), Errno.EINVAL);
    assertError(h.sendSync(encodeRegionRead(2, 12, 0, 4)), Errno.EINVAL);
  });
  it('a short read is reported with its honest count', () => {
    const h = ready();
    const r = decodeRegionReadReply(asFrame(h.sendSync(encodeRegionRead(1, 7, 4094, 8))));
    assert.equal(r.count, 2);
    assert.equal(r.data.length, 2);
  });
  it('a read above max_data_xfer_size → EINVAL', () => {
    const h = ready();
    assertError(h.sendSync(encodeRegionRead(1, 0, 0, (1 << 20) + 1)), Errno.EINVAL);
  });
  it('a waiting read makes handle() return a Promise; the session is sync again once it settles', async () => {
    const h = ready();
    let release!: () => void;
    h.device.slowReads = new Promise<void>((r) => {
      release = r;
    });
    const p1 = h.session.handle(h.reader.push(encodeRegionRead(1, 0, 0, 4))[0]!);
    assert.ok(p1 instanceof Promise, 'a waiting device makes the reply a Promise');
    assert.throws(
      () => h.session.handle(h.reader.push(encodeDeviceGetInfo(2))[0]!),
      /still in progress/,
      'one message at a time: ordering belongs to the caller',
    );
    release();
    assert.deepEqual([...decodeRegionReadReply(asFrame(await p1)).data], [0xab, 0xab, 0xab, 0xab]);
    h.device.slowReads = null;
    assert.ok(
      !(h.session.handle(h.reader.push(encodeDeviceGetInfo(3))[0]!) instanceof Promise),
      'sync again once idle',
    );
  });
  it('REGION_WRITE_MULTI applies every entry in order', () => {
    const h = ready();
    const entries = [
      { offset: 0n, region: 0, data: Uint8Array.of(1) },
      { offset: 8n, region: 0, data: Uint8Array.of(2, 2, 2, 2, 2, 2, 2, 2) },
    ];
    assert.equal(h.sendSync(encodeRegionWriteMulti(1, entries, true)), null);
    const r = h.sendSync(encodeRegionWriteMulti(2, entries, false))!;
    assert.equal(decodeRegionWriteMultiReply(asFrame(r)), 2n);
    assert.equal(h.device.writes.length, 4);
    assert.deepEqual(h.device.writes[1], { index: 0, offset: 8, data: [2, 2, 2, 2, 2, 2, 2, 2] });
  });
  it('SET_IRQS rejected by the device closes the eventfds it brought', () => {
    const h = ready();
    h.device.rejectIrqs = true;
    const msg = encodeSetIrqs(1, {
      flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER,
      index: 1,
      start: 0,
      count: 1,
    });
    assertError(h.sendSync(msg, [80]), Errno.EINVAL);
    assert.deepEqual(h.host.closedFds, [80]);
  });
  it('SET_IRQS with fewer fds than count → EINVAL, fds closed', () => {
    const h = ready();
    const msg = encodeSetIrqs(1, {
      flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER,
      index: 1,
      start: 0,
      count: 2,
    });
    assertError(h.sendSync(msg, [80]), Errno.EINVAL);
    assert.deepEqual(h.host.closedFds, [80]);
  });
  it('a sink that cannot be made closes the sinks made so far and the remaining fds', () => {
    const h = ready();
    h.host.failSinkFor = 91;
    const msg = encodeSetIrqs(1, {
      flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER,
      index: 0,
      start: 0,
      count: 2,
    });
    const r = h.sendSync(msg, [90, 91]);
    assert.equal(asFrame(r).header.error, Errno.EIO);
    assert.deepEqual([...h.host.closedFds].sort(), [90, 91]);
  });
  it('SET_IRQS NONE|TRIGGER count 0 disables the index', () => {
    const h = ready();
    const msg = encodeSetIrqs(1, {
      flags: IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_TRIGGER,
      index: 2,
      start: 0,
      count: 0,
    });
    assert.equal(h.sendSync(msg)!.bytes.length, 16);
    assert.equal(h.device.irqRequests.at(-1)?.count, 0);
  });
  it('DEVICE_RESET resets and answers header-only', () => {
    const h = ready();
    const r = h.sendSync(encodeDeviceReset(1))!;
    assert.equal(r.bytes.length, 16);
    assert.equal(asFrame(r).header.flags, HeaderFlags.TYPE_REPLY);
    assert.equal(h.device.resets, 1);
  });
  it('DEVICE_FEATURE and MIG_DATA_READ → EINVAL (no migration)', () => {
    const h = ready();
    assertError(h.sendSync(encodeDeviceFeature(1, 16, (1 << 16) | 1)), Errno.EINVAL);
    assertError(h.sendSync(encodeMigDataRead(2, 64)), Errno.EINVAL);
  });
  it('GET_REGION_IO_FDS answers count 0 without fds', () => {
    const h = ready();
    const r = decodeGetRegionIoFdsReply(asFrame(h.sendSync(encodeGetRegionIoFds(1, 0, 16))));
    assert.equal(r.count, 0);
    assert.deepEqual(r.fds, []);
  });
  it('error replies decode as RemoteError on the client side', () => {
    const h = ready();
    assert.throws(
      () => decodeRegionReadReply(asFrame(h.sendSync(encodeRegionRead(1, 12, 0, 4)))),
      RemoteError,
    );
  });
  it('after close() messages are ignored and their fds closed', () => {
    const h = ready();
    h.session.close();
    assert.equal(h.sendSync(encodeDeviceGetInfo(1), [5]), null);
    assert.deepEqual(h.host.closedFds, [5]);
  });
});
