import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeviceInfoFlags,
  decodeDeviceGetInfoReply,
  decodeDmaMapReply,
  decodeGetIrqInfoReply,
  decodeGetRegionInfoReply,
  decodeRegionReadReply,
  decodeRegionWriteReply,
  decodeSetIrqsReply,
  decodeSparseMmapCap,
  decodeVersionReply,
  encodeDeviceGetInfo,
  encodeDmaMap,
  encodeGetIrqInfo,
  encodeGetRegionInfo,
  encodeRegionRead,
  encodeRegionWrite,
  encodeSetIrqs,
  IrqSetFlags,
  PciIrq,
  RegionInfoFlags,
  walkCaps,
} from '../../src/vfio-user/protocol/index.js';
import { BAR2_BACKING_OFFSET, BAR2_FD } from './fake-device.js';
import { asFrame, harness, qemuVersion } from './helpers.js';

describe('the QEMU 10.1 attach sequence (docs/protocol.md §4.2)', () => {
  it('replays realize with reply sizes inside what QEMU accepts', async () => {
    const h = harness();
    let id = 0;
    const next = () => id++ & 0xffff;

    // 2. VERSION: reply ≤ request, 0.0, NUL-terminated, pgsizes non-zero, no fds.
    const vreq = qemuVersion(next());
    const vrep = h.sendSync(vreq)!;
    assert.ok(
      vrep.bytes.length <= vreq.length,
      `VERSION reply ${vrep.bytes.length} > request ${vreq.length}`,
    );
    assert.equal(vrep.bytes[vrep.bytes.length - 1], 0);
    assert.deepEqual(vrep.fds, []);
    const v = decodeVersionReply(asFrame(vrep));
    assert.equal(v.major, 0);
    assert.equal(v.minor, 0);
    assert.ok((v.capabilities.pgsizes ?? 4096) > 0);
    assert.ok((v.capabilities.maxMsgFds ?? 8) <= 16);
    assert.equal(v.capabilities.writeMultiple, true);
    assert.equal(h.session.peer?.maxMsgFds, 16);

    // 3. Pipelined DMA_MAPs before GET_INFO: RAM with fds, a ROM without.
    const maps = [
      {
        req: encodeDmaMap(next(), { flags: 3, offset: 0n, address: 0n, size: 0x8000_0000n }),
        fds: [50],
      },
      { req: encodeDmaMap(next(), { flags: 1, address: 0xfffc_0000n, size: 0x4_0000n }), fds: [] },
      {
        req: encodeDmaMap(next(), {
          flags: 3,
          offset: 0x8000_0000n,
          address: 0x1_0000_0000n,
          size: 0x8000_0000n,
        }),
        fds: [51],
      },
    ];
    const pending = maps.map((m) => h.send(m.req, m.fds));
    for (const p of pending) {
      const r = (await p)!;
      assert.ok(r.bytes.length <= 48);
      decodeDmaMapReply(asFrame(r));
    }
    assert.equal(h.session.dmaWindows.count, 3);
    assert.deepEqual(h.host.closedFds, [], 'DMA fds are kept, not closed');

    // 4. GET_INFO: ≤ 32 bytes, PCI flag, 9 regions, 5 irqs.
    const info = h.sendSync(encodeDeviceGetInfo(next()))!;
    assert.equal(info.bytes.length, 32);
    const di = decodeDeviceGetInfoReply(asFrame(info));
    assert.ok(di.flags & DeviceInfoFlags.PCI);
    assert.equal(di.numRegions, 9);
    assert.equal(di.numIrqs, 5);

    // 5. Region info 0..5 and 7, first with argsz 32 then with the argsz the reply asks for.
    const fdsSeen: number[][] = [];
    for (const index of [0, 1, 2, 3, 4, 5, 7]) {
      const first = h.sendSync(encodeGetRegionInfo(next(), index, 32))!;
      assert.ok(first.bytes.length <= 48, `region ${index} first reply too big`);
      let ri = decodeGetRegionInfoReply(asFrame(first));
      assert.equal(ri.index, index);
      if (ri.argsz > 32) {
        assert.deepEqual(first.fds, [], 'no fd on the truncated reply');
        assert.equal(ri.flags & RegionInfoFlags.CAPS, 0);
        assert.equal(ri.capOffset, 0);
        const argsz = ri.argsz;
        const again = h.sendSync(encodeGetRegionInfo(next(), index, argsz))!;
        assert.ok(again.bytes.length <= 16 + argsz);
        ri = decodeGetRegionInfoReply(asFrame(again));
        fdsSeen[index] = again.fds;
        if (ri.flags & RegionInfoFlags.CAPS) {
          assert.ok(ri.capOffset >= 32 && ri.capOffset <= argsz);
        }
      } else {
        fdsSeen[index] = first.fds;
      }
      assert.ok(fdsSeen[index]!.length <= 1);
      if (index === 2) {
        assert.ok(ri.flags & RegionInfoFlags.MMAP);
        assert.equal(ri.offset, BigInt(BAR2_BACKING_OFFSET));
        assert.deepEqual(fdsSeen[index], [BAR2_FD]);
        const full = asFrame(h.sendSync(encodeGetRegionInfo(next(), 2, 64))).payload;
        const caps = walkCaps(full, ri.capOffset);
        assert.equal(caps[0]?.id, 1);
        assert.deepEqual(decodeSparseMmapCap(caps[0]!.bytes), [
          { offset: 0n, size: BigInt(2 ** 29) },
        ]);
      } else {
        assert.equal(
          ri.flags & RegionInfoFlags.MMAP,
          0,
          `region ${index} must not claim MMAP without an fd`,
        );
        assert.deepEqual(fdsSeen[index], []);
      }
      if (index === 7) assert.equal(ri.size, 4096n);
    }

    // 6. GET_IRQ_INFO(ERR): count 1, reply 32 bytes.
    const err = h.sendSync(encodeGetIrqInfo(next(), PciIrq.ERR))!;
    assert.equal(err.bytes.length, 32);
    assert.equal(decodeGetIrqInfoReply(asFrame(err)).count, 1);

    // 7. Whole config space in one read; must be complete.
    const cfg = h.sendSync(encodeRegionRead(next(), 7, 0, 4096))!;
    assert.equal(cfg.bytes.length, 32 + 4096);
    const cfgData = decodeRegionReadReply(asFrame(cfg)).data;
    assert.equal(cfgData[0], 0xde);
    assert.equal(cfgData[0x3d], 1);

    // 8. ROM BAR sizing: read, write all-ones, read back 0 (no ROM), restore.
    const rd = (off: number, n: number) => {
      const r = h.sendSync(encodeRegionRead(next(), 7, off, n))!;
      assert.ok(r.bytes.length <= 32 + n);
      return decodeRegionReadReply(asFrame(r)).data;
    };
    const wr = (off: number, data: number[]) => {
      const r = h.sendSync(encodeRegionWrite(next(), 7, off, Uint8Array.from(data)))!;
      assert.ok(r.bytes.length <= 32 + data.length);
      assert.equal(decodeRegionWriteReply(asFrame(r)).count, data.length);
    };
    assert.deepEqual([...rd(0x30, 4)], [0, 0, 0, 0]);
    wr(0x30, [0x00, 0xf8, 0xff, 0xff]);
    assert.deepEqual([...rd(0x30, 4)], [0, 0, 0, 0]);
    wr(0x30, [0, 0, 0, 0]);

    // 9. BAR type reads; 13. interrupt pin.
    for (const bar of [0, 2, 4]) rd(0x10 + 4 * bar, 4);
    assert.equal(rd(0x3d, 1)[0], 1);

    // 13. INTx: trigger eventfd, then the KVM resample dance.
    const irq = (flags: number, index: number, count: number, fds: number[]) => {
      const msg = encodeSetIrqs(next(), { flags, index, start: 0, count });
      assert.equal(msg.length, 36, 'QEMU sends SET_IRQS EVENTFD/NONE as 36 bytes');
      const r = h.sendSync(msg, fds)!;
      assert.equal(r.bytes.length, 16);
      decodeSetIrqsReply(asFrame(r));
    };
    irq(IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER, PciIrq.INTX, 1, [60]);
    irq(IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_MASK, PciIrq.INTX, 1, []);
    irq(IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_UNMASK, PciIrq.INTX, 1, [61]);
    irq(IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_UNMASK, PciIrq.INTX, 1, []);
    // 14. ERR eventfd.
    irq(IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER, PciIrq.ERR, 1, [62]);
    assert.equal(h.device.irqRequests.length, 5);
    h.device.irqRequests[0]!.sinks![0]!.signal();
    assert.equal(h.host.signals.get(60), 1);
    assert.deepEqual(h.host.closedFds, [], 'eventfds handed to the device stay open');

    // Detach: DMA fds and sinks closed, DMA space withdrawn.
    h.session.close();
    assert.deepEqual([...h.host.closedFds].sort(), [50, 51, 60, 61, 62]);
    assert.equal(h.device.dma, null);
    assert.equal(h.device.closed, 1);
  });
});
