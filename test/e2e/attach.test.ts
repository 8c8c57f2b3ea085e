/**
 * Client ↔ server over a real socket: the QEMU 10.1 attach sequence (docs/protocol.md §4.2),
 * the mapped path, trapped accesses, posted writes, interrupts, disconnect/reattach.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventFd, FileMemory, mapFd } from '../../src/host/index.js';
import { EMU_IRQ_TRIGGER } from '../../src/hw/bar0.js';
import type { RegionInfoResult } from '../../src/vfio-user/client/client.js';
import { DmaMapFlags, IrqSetFlags, RegionInfoFlags } from '../../src/vfio-user/protocol/index.js';
import { closeFd, le32, le64, type Served, serve, sparseAreas, u32, until } from './helpers.js';

const GiB = 2 ** 30;
const CONFIG = 7;

describe('a VMM attaches a gh200 over vfio-user', () => {
  let s: Served;
  before(async () => {
    s = await serve();
  });
  after(async () => {
    await s.stop();
  });

  it('the banner names the device and prints a QEMU command line', () => {
    assert.match(s.banner, /10de:2342/);
    assert.match(s.banner, /BAR4: 128 GiB/);
    assert.match(s.banner, /BAR2: 1 GiB/);
    assert.match(s.banner, /vfio-user-pci/);
  });

  it('replays the QEMU attach sequence and sees the nvgrace layout', async () => {
    const c = await s.connect();
    const v = await c.version();
    assert.equal(v.major, 0);
    assert.equal(v.minor, 0);
    assert.ok((v.capabilities.pgsizes ?? 0) > 0);
    // DMA maps come before GET_INFO: one backed by a memfd, one without an fd.
    const ram = FileMemory.anonymous(2 * 2 ** 20);
    await c.dmaMap(
      { flags: DmaMapFlags.READ | DmaMapFlags.WRITE, address: 0n, size: 2n ** 21n },
      ram.fd,
    );
    await c.dmaMap({ flags: DmaMapFlags.READ, address: 0xfffc0000n, size: 0x40000n });
    const info = await c.deviceInfo();
    assert.equal(info.numRegions, 9);
    assert.equal(info.numIrqs, 5);
    assert.equal(info.flags & 0x3, 0x3, 'PCI | RESET');
    const regions = new Map<number, RegionInfoResult>();
    for (const i of [0, 1, 2, 3, 4, 5, CONFIG]) regions.set(i, await c.regionInfo(i));
    const bar4 = regions.get(4)!;
    const bar2 = regions.get(2)!;
    assert.equal(bar4.size, 128n * BigInt(GiB));
    assert.equal(bar2.size, BigInt(GiB));
    for (const r of [bar2, bar4]) {
      assert.ok(r.flags & RegionInfoFlags.MMAP, 'mmap-able');
      assert.notEqual(r.fd, null, 'one fd per mmap-able region');
    }
    assert.deepEqual(sparseAreas(bar4), [{ offset: 0n, size: 95n * BigInt(GiB) }]);
    assert.deepEqual(sparseAreas(bar2), [{ offset: 0n, size: BigInt(GiB) }]);
    assert.equal(regions.get(0)!.size, 16n * 2n ** 20n);
    assert.equal(regions.get(0)!.fd, null, 'BAR0 registers are trapped');
    assert.equal(regions.get(CONFIG)!.size, 4096n);
    await c.irqInfo(3);
    const cfg = await c.regionRead(CONFIG, 0, 4096);
    assert.equal(cfg.length, 4096);
    assert.equal(u32(cfg, 0), 0x234210de);
    // BAR type bits as QEMU reads them: 64-bit prefetchable fake BARs.
    assert.equal(u32(await c.regionRead(CONFIG, 0x20, 4)) & 0xf, 0xc);
    assert.equal(u32(await c.regionRead(CONFIG, 0x18, 4)) & 0xf, 0xc);
    // INTx: the pin is set, so QEMU hands over an eventfd.
    const pin = (await c.regionRead(CONFIG, 0x3d, 1))[0];
    assert.equal(pin, 1);
    const intx = EventFd.create();
    await c.setIrqs(
      {
        flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER,
        index: 0,
        start: 0,
        count: 1,
      },
      [intx.fd],
    );
    for (const r of regions.values()) if (r.fd !== null) closeFd(r.fd);
    intx.close();
    ram.close();
    c.close();
    await s.server.endpoint.idle();
  });

  it('guest writes through the mapped fd are what REGION_READ returns, and back', async () => {
    const c = await s.attach();
    const bar4 = await c.regionInfo(4);
    const bar2 = await c.regionInfo(2);
    const m4 = mapFd(bar4.fd!, Number(bar4.offset), 2 ** 20, true);
    const m2 = mapFd(bar2.fd!, Number(bar2.offset), 2 ** 20, true);
    try {
      m4.buffer.set([1, 2, 3, 4], 0x1000);
      assert.deepEqual([...(await c.regionRead(4, 0x1000, 4))], [1, 2, 3, 4]);
      await c.regionWrite(4, 0x2000, le32(0xcafef00d));
      assert.equal(u32(m4.buffer, 0x2000), 0xcafef00d);
      // BAR2 (resmem) maps the memory right after usemem in the same backing.
      m2.buffer.set([9, 8, 7, 6], 0);
      assert.deepEqual([...(await c.regionRead(2, 0, 4))], [9, 8, 7, 6]);
      await c.regionWrite(2, 8, le64(0x0123456789abcdefn));
      assert.equal(u32(m2.buffer, 8), 0x89abcdef);
    } finally {
      m4.unmap();
      m2.unmap();
      closeFd(bar4.fd!);
      closeFd(bar2.fd!);
      c.close();
      await s.server.endpoint.idle();
    }
  });

  it('reads past device memory but inside the BAR return 0xFF and writes there are dropped', async () => {
    const c = await s.attach();
    const past = 95 * GiB + 0x100;
    assert.equal(await c.regionWrite(4, past, le32(0x12345678)), 4);
    assert.deepEqual([...(await c.regionRead(4, past, 4))], [0xff, 0xff, 0xff, 0xff]);
    c.close();
    await s.server.endpoint.idle();
  });

  it('an access at or past the BAR size is refused with EINVAL', async () => {
    const c = await s.attach();
    await assert.rejects(c.regionRead(4, 128 * GiB, 4), (e: { errno?: number }) => e.errno === 22);
    c.close();
    await s.server.endpoint.idle();
  });

  it('posted writes are executed in order and never answered', async () => {
    const c = await s.attach();
    for (let i = 0; i < 64; i++) c.regionWritePosted(4, 0x10000 + 4 * i, le32(i * 3));
    const flushed = await c.regionRead(4, 0x10000 + 4 * 63, 4);
    assert.equal(u32(flushed), 63 * 3);
    assert.equal(u32(await c.regionRead(4, 0x10000, 4)), 0);
    c.close();
    await s.server.endpoint.idle();
  });

  it('an interrupt the device raises reaches the INTx eventfd', async () => {
    const c = await s.attach();
    const ev = EventFd.create();
    let seen = 0n;
    const w = ev.watch((n) => {
      seen += n;
    });
    await c.setIrqs(
      {
        flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER,
        index: 0,
        start: 0,
        count: 1,
      },
      [ev.fd],
    );
    await c.regionWrite(0, EMU_IRQ_TRIGGER, le32(0));
    await until(() => seen > 0n, 'INTx eventfd signalled');
    w.close();
    ev.close();
    c.close();
    await s.server.endpoint.idle();
  });

  it('a second client is refused while one is attached', async () => {
    const first = await s.attach();
    const second = await s.connect();
    await assert.rejects(second.version());
    // The first one keeps working.
    assert.equal((await first.deviceInfo()).numRegions, 9);
    first.close();
    await s.server.endpoint.idle();
  });

  it('device memory written by one client is there for the next, and the next can attach', async () => {
    const a = await s.attach();
    await a.regionWrite(4, 0x40000, le32(0xdeadbeef));
    a.close();
    await s.server.endpoint.idle();
    const b = await s.attach();
    assert.equal(u32(await b.regionRead(4, 0x40000, 4)), 0xdeadbeef);
    b.close();
    await s.server.endpoint.idle();
  });

  it('a client that disconnects mid-message does not stop the next one', async () => {
    const a = await s.attach();
    // Header announcing 64 bytes, then only part of the body.
    const partial = new Uint8Array(24);
    new DataView(partial.buffer).setUint32(4, 64, true);
    new DataView(partial.buffer).setUint16(2, 10, true);
    a.post(partial);
    a.close();
    await s.server.endpoint.idle();
    const b = await s.attach();
    assert.equal((await b.deviceInfo()).numIrqs, 5);
    b.close();
    await s.server.endpoint.idle();
  });
});
