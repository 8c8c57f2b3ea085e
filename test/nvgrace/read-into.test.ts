/**
 * VfioDevice.readInto, the path the server reads through: it writes every byte it reports
 * (a reply buffer may hold an earlier reply's bytes, which must never reach a peer) and gives
 * the same bytes and count as read(), in every region the device has.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileMemory } from '../../src/host/file-memory.js';
import { CFG, GiB, rig } from './helpers.js';

const POISON = 0xa5;

describe('readInto', () => {
  it('overwrites every byte it reports, and matches read(), in config, BAR0, BAR2 and BAR4', async () => {
    const { dev } = await rig();
    await dev.write(4, 0x40, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    await dev.write(2, 0x10, Uint8Array.of(9, 9, 9, 9));
    const bar4Size = Number(dev.regionInfo(4, 32).size);
    const cases: [string, number, number, number][] = [
      ['config header', CFG, 0, 64],
      ['config capability area', CFG, 0x40, 192],
      ['BAR0 BOOT_0', 0, 0, 8],
      ['BAR0 unimplemented registers', 0, 0x1234, 256],
      ['BAR2 written bytes', 2, 0x10, 8],
      ['BAR4 written bytes and a hole', 4, 0x40, 4096],
      ['BAR4 never written', 4, 5 * GiB, 64],
      ['BAR4 padding', 4, bar4Size - 64, 64],
    ];
    for (const [what, index, offset, length] of cases) {
      const target = new Uint8Array(length + 8).fill(POISON);
      const n = await dev.readInto(index, offset, target.subarray(0, length));
      assert.equal(n, length, `${what}: count`);
      const expected = await dev.read(index, offset, length);
      assert.deepEqual([...target.subarray(0, n)], [...expected], `${what}: bytes`);
      assert.ok(
        target.subarray(length).every((v) => v === POISON),
        `${what}: nothing written past the target`,
      );
    }
  });

  it('readView serves written device memory in place and declines everything else', async () => {
    const memory = FileMemory.anonymous(96 * GiB);
    try {
      const { dev, card } = await rig({ memory });
      const data = new Uint8Array(256 * 1024).map((_, i) => (i * 7) & 0xff);
      await dev.write(4, 0x10_0000, data);
      const view = dev.readView(4, 0x10_0000, data.length);
      assert.ok(view, 'written memory is served in place');
      assert.deepEqual(Buffer.from(view), Buffer.from(await dev.read(4, 0x10_0000, data.length)));
      const memEnd = Number(memory.size) - GiB; // usemem ends where the 1 GiB resmem starts
      assert.equal(dev.readView(4, 0x20_0000, 4096), null, 'never written: pread, not a mapping');
      assert.equal(dev.readView(4, memEnd - 4096, 8192), null, 'reaches the 0xFF padding');
      assert.equal(dev.readView(0, 0, 4), null, 'BAR0 is registers');
      assert.equal(dev.readView(CFG, 0, 4), null, 'config space');
      card.cfgWrite(4, 2, 0); // physical decode off: memory reads all-ones, not the data
      assert.equal(dev.readView(4, 0x10_0000, 4096), null, 'decode off');
    } finally {
      memory.close();
    }
  });

  it('a read clipped at the end of a fake BAR reports the clipped count and leaves the rest', async () => {
    const { dev } = await rig();
    const size = Number(dev.regionInfo(4, 32).size);
    const target = new Uint8Array(16).fill(POISON);
    assert.equal(await dev.readInto(4, size - 4, target), 4);
    assert.deepEqual([...target.subarray(0, 4)], [0xff, 0xff, 0xff, 0xff]);
    assert.ok(target.subarray(4).every((v) => v === POISON));
  });
});
