import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeDmaMap,
  decodeDmaRead,
  decodeDmaUnmap,
  decodeDmaWrite,
  decodeGetRegionInfoReply,
  decodeHeader,
  decodeRegionWriteMulti,
  decodeSetIrqs,
  decodeVersion,
  encodeDmaMap,
  encodeDmaRead,
  encodeDmaUnmap,
  encodeDmaWrite,
  encodeErrorReply,
  encodeGetRegionInfoReply,
  encodeRegionWriteMulti,
  encodeSetIrqs,
  encodeVersion,
  type Frame,
} from '../../src/vfio-user/protocol/index.js';

import { GOLDEN, hex } from './golden-messages.js';

function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
function frameOf(b: Uint8Array, fds: number[] = []): Frame {
  return { header: decodeHeader(b), payload: b.subarray(16), fds };
}

describe('golden bytes', () => {
  for (const [name, bytes, expected] of GOLDEN) {
    it(`${name} encodes to its golden bytes`, () => {
      assert.equal(toHex(bytes), toHex(hex(expected)));
      assert.equal(decodeHeader(bytes).size, bytes.length);
    });
  }
  it('an error reply never carries errno 0', () => {
    assert.equal(decodeHeader(encodeErrorReply(1, 9, 0)).error, 22);
  });
});

describe('decoders read back what the encoders wrote', () => {
  it('VERSION', () => {
    assert.deepEqual(decodeVersion(encodeVersion(1, 0, 3, {}).subarray(16)), {
      major: 0,
      minor: 3,
      json: '{"capabilities":{}}',
    });
  });
  it('DMA_MAP / DMA_UNMAP', () => {
    const m = decodeDmaMap(
      encodeDmaMap(1, { flags: 1, address: 5n, size: 6n, offset: 7n }).subarray(16),
    );
    assert.deepEqual(m, { argsz: 32, flags: 1, offset: 7n, address: 5n, size: 6n });
    const u = decodeDmaUnmap(
      encodeDmaUnmap(1, { address: 5n, size: 6n, bitmap: { pgsize: 4096n, size: 8n } }).subarray(
        16,
      ),
    );
    assert.deepEqual(u, {
      argsz: 40,
      flags: 1,
      address: 5n,
      size: 6n,
      bitmap: { pgsize: 4096n, size: 8n },
    });
  });
  it('GET_REGION_INFO reply with its fd', () => {
    const b = encodeGetRegionInfoReply(1, {
      argsz: 32,
      flags: 7,
      index: 2,
      capOffset: 0,
      size: 4096n,
      offset: 0n,
      caps: new Uint8Array(0),
    });
    const r = decodeGetRegionInfoReply(frameOf(b, [42]));
    assert.equal(r.fd, 42);
    assert.equal(r.flags, 7);
    assert.throws(() => decodeGetRegionInfoReply(frameOf(b, [1, 2])), /at most 1/);
  });
  it('SET_IRQS, WRITE_MULTI, DMA_READ/WRITE', () => {
    const s = decodeSetIrqs(
      encodeSetIrqs(1, {
        flags: 0x22,
        index: 1,
        start: 1,
        count: 2,
        bools: Uint8Array.of(1, 1),
      }).subarray(16),
    );
    assert.equal(s.argsz, 22);
    assert.deepEqual([...s.data], [1, 1]);
    const w = decodeRegionWriteMulti(
      encodeRegionWriteMulti(1, [{ offset: 1n, region: 2, data: Uint8Array.of(3) }]).subarray(16),
    );
    assert.equal(w[0]?.region, 2);
    assert.deepEqual([...w[0]!.data], [3]);
    assert.equal(decodeDmaRead(encodeDmaRead(1, 9n, 4).subarray(16)).count, 4n);
    assert.deepEqual(
      [...decodeDmaWrite(encodeDmaWrite(1, 9n, Uint8Array.of(1, 2)).subarray(16)).data],
      [1, 2],
    );
  });
});
