/**
 * VfioDevice.readInto, the path the server reads through: it writes every byte it reports
 * (a reply buffer may hold an earlier reply's bytes, which must never reach a peer) and gives
 * the same bytes and count as read(), in every region the device has.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

  it('a read clipped at the end of a fake BAR reports the clipped count and leaves the rest', async () => {
    const { dev } = await rig();
    const size = Number(dev.regionInfo(4, 32).size);
    const target = new Uint8Array(16).fill(POISON);
    assert.equal(await dev.readInto(4, size - 4, target), 4);
    assert.deepEqual([...target.subarray(0, 4)], [0xff, 0xff, 0xff, 0xff]);
    assert.ok(target.subarray(4).every((v) => v === POISON));
  });
});
