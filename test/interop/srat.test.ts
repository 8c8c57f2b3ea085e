import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { namesFunction, sratGenericInitiators } from './srat.js';

/** An SRAT with one CPU affinity entry and GI entries (node, seg, handle bytes 2 and 3). */
function srat(gis: [number, number, number, number][]): Uint8Array {
  const b = new Uint8Array(48 + 16 + 32 * gis.length);
  b.set([0x53, 0x52, 0x41, 0x54]);
  b.set([0, 16], 48); // type 0 (processor), length 16
  gis.forEach(([node, seg, h2, h3], i) => {
    const o = 64 + 32 * i;
    b.set([5, 32, 0, 1], o);
    new DataView(b.buffer).setUint32(o + 4, node, true);
    new DataView(b.buffer).setUint16(o + 8, seg, true);
    b[o + 10] = h2;
    b[o + 11] = h3;
  });
  return b;
}

describe('SRAT Generic Initiator parsing for the interop tests', () => {
  it('reads node and PCI handle of each GI entry and skips other entry types', () => {
    const e = sratGenericInitiators(srat([[1, 0, 0x00, 0x81]]));
    assert.equal(e.length, 1);
    assert.deepEqual(e[0], {
      node: 1,
      segment: 0,
      spec: { bus: 0x81, devfn: 0 },
      swapped: { bus: 0, devfn: 0x81 },
    });
  });
  it('a handle in the spec layout (bus in byte 3) and in QEMU 10.2 layout (byte 2) both name 0000:81:00.0', () => {
    const [spec, qemu] = sratGenericInitiators(
      srat([
        [1, 0, 0x00, 0x81],
        [2, 0, 0x81, 0x00],
      ]),
    );
    assert.ok(namesFunction(spec!, '0000:81:00.0'));
    assert.ok(namesFunction(qemu!, '0000:81:00.0'));
    assert.ok(!namesFunction(spec!, '0000:82:00.0'));
    assert.ok(!namesFunction(spec!, '0001:81:00.0'));
  });
  it('a table that is not an SRAT, or an entry running past the end, is an error', () => {
    assert.throws(() => sratGenericInitiators(new Uint8Array(64)), /not an SRAT/);
    const bad = srat([[1, 0, 0, 1]]);
    bad[65] = 200;
    assert.throws(() => sratGenericInitiators(bad), /bad SRAT entry/);
  });
});
