import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Command,
  decodeHeader,
  encodeCommand,
  encodeDeviceFeature,
  encodeDeviceGetInfo,
  encodeDeviceReset,
  encodeDmaMap,
  encodeDmaUnmap,
  encodeGetRegionInfo,
  encodeGetRegionIoFds,
  encodeMigDataRead,
  encodeMigDataWrite,
  encodeRegionRead,
  encodeRegionWrite,
  encodeRegionWriteMulti,
  encodeSetIrqs,
  type Frame,
  validateRequest,
} from '../../src/vfio-user/protocol/index.js';

const LIMITS = { maxDataXfer: 1 << 20, maxMsgFds: 16 };

function frame(bytes: Uint8Array, fds: number[] = []): Frame {
  return { header: decodeHeader(bytes), payload: bytes.subarray(16), fds };
}
/** Patch a u32 / u64 at a payload offset. */
function patch32(bytes: Uint8Array, at: number, v: number): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(16 + at, v, true);
  return bytes;
}
function patch64(bytes: Uint8Array, at: number, v: bigint): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(16 + at, v, true);
  return bytes;
}
function truncated(bytes: Uint8Array, payload: number): Uint8Array {
  return encodeCommand(
    decodeHeader(bytes).msgId,
    decodeHeader(bytes).command,
    bytes.subarray(16, 16 + payload),
  );
}

const TRIGGER_EVENTFD = 0x24;

const CASES: [string, Frame, RegExp][] = [
  [
    'DMA_MAP payload below 32',
    frame(truncated(encodeDmaMap(1, { flags: 3, address: 0n, size: 1n }), 24)),
    /below the minimum of 32/,
  ],
  [
    'DMA_MAP argsz below 32',
    frame(encodeDmaMap(1, { flags: 3, address: 0n, size: 1n, argsz: 8 })),
    /argsz 8 is below/,
  ],
  [
    'DMA_MAP unknown flags',
    frame(encodeDmaMap(1, { flags: 0x13, address: 0n, size: 1n })),
    /unknown flag bits 0x10/,
  ],
  [
    'DMA_MAP two fds',
    frame(encodeDmaMap(1, { flags: 3, address: 0n, size: 1n }), [1, 2]),
    /2 fds, at most 1/,
  ],
  [
    'DMA_MAP address+size overflow',
    frame(encodeDmaMap(1, { flags: 3, address: 0xffff_ffff_ffff_f000n, size: 0x2000n })),
    /overflows u64/,
  ],
  [
    'DMA_UNMAP ALL with a size',
    frame(encodeDmaUnmap(1, { flags: 2, address: 0n, size: 4096n })),
    /address 0 and size 0/,
  ],
  [
    'DMA_UNMAP unknown flags',
    frame(encodeDmaUnmap(1, { flags: 8, address: 0n, size: 4096n })),
    /unknown flag bits 0x8/,
  ],
  [
    'DMA_UNMAP with an fd',
    frame(encodeDmaUnmap(1, { address: 0n, size: 4096n }), [3]),
    /fds where none belong/,
  ],
  ['GET_INFO argsz 8', frame(encodeDeviceGetInfo(1, 8)), /argsz 8 is below the minimum of 16/],
  [
    'GET_REGION_INFO payload 16',
    frame(truncated(encodeGetRegionInfo(1, 0), 16)),
    /below the minimum of 32/,
  ],
  [
    'GET_REGION_IO_FDS count set',
    frame(patch32(encodeGetRegionIoFds(1, 0), 12, 1)),
    /count 1 must be 0/,
  ],
  [
    'SET_IRQS two data types',
    frame(encodeSetIrqs(1, { flags: 0x21 | 0x4, index: 0, start: 0, count: 1 })),
    /exactly one data type/,
  ],
  [
    'SET_IRQS no action',
    frame(encodeSetIrqs(1, { flags: 0x1, index: 0, start: 0, count: 1 })),
    /exactly one action/,
  ],
  [
    'SET_IRQS eventfd count mismatch',
    frame(encodeSetIrqs(1, { flags: TRIGGER_EVENTFD, index: 1, start: 0, count: 3 }), [1, 2]),
    /2 fds for count 3/,
  ],
  [
    'SET_IRQS fds with DATA_NONE',
    frame(encodeSetIrqs(1, { flags: 0x21, index: 1, start: 0, count: 1 }), [1]),
    /data type is not EVENTFD/,
  ],
  [
    'SET_IRQS BOOL data short',
    frame(truncated(encodeSetIrqs(1, { flags: 0x22, index: 1, start: 0, count: 2 }), 21)),
    /DATA_BOOL with count 2 but 1 data bytes/,
  ],
  [
    'SET_IRQS count 0 with EVENTFD',
    frame(encodeSetIrqs(1, { flags: TRIGGER_EVENTFD, index: 1, start: 0, count: 0 })),
    /only valid with DATA_NONE\|ACTION_TRIGGER/,
  ],
  [
    'SET_IRQS more fds than we accept',
    frame(encodeSetIrqs(1, { flags: TRIGGER_EVENTFD, index: 2, start: 0, count: 17 }), [
      ...Array(17).keys(),
    ]),
    /more than 16/,
  ],
  [
    'REGION_READ count above the cap',
    frame(encodeRegionRead(1, 0, 0, (1 << 20) + 1)),
    /exceeds max_data_xfer_size/,
  ],
  [
    'REGION_READ offset overflow',
    frame(encodeRegionRead(1, 0, 0xffff_ffff_ffff_fffen, 4)),
    /overflows u64/,
  ],
  [
    'REGION_WRITE count vs data',
    frame(patch32(encodeRegionWrite(1, 0, 0, Uint8Array.of(1, 2)), 12, 4)),
    /count 4 but 2 data bytes/,
  ],
  [
    'REGION_WRITE_MULTI wr_cnt mismatch',
    frame(
      patch64(
        encodeRegionWriteMulti(1, [{ offset: 0n, region: 0, data: Uint8Array.of(1) }]),
        0,
        2n,
      ),
    ),
    /wr_cnt 2 does not match/,
  ],
  [
    'REGION_WRITE_MULTI entry count above 8',
    frame(
      patch32(
        encodeRegionWriteMulti(1, [{ offset: 0n, region: 0, data: Uint8Array.of(1) }]),
        8 + 12,
        9,
      ),
    ),
    /entry 0 count 9 exceeds 8/,
  ],
  [
    'DEVICE_RESET with a payload',
    frame(encodeCommand(1, Command.DEVICE_RESET, new Uint8Array(4))),
    /expected exactly 0/,
  ],
  ['DEVICE_FEATURE unknown flags', frame(encodeDeviceFeature(1, 8, 1 << 20)), /unknown flag bits/],
  [
    'MIG_DATA_READ argsz too small',
    frame(encodeMigDataRead(1, 64, 16)),
    /argsz 16 is below the minimum of 72/,
  ],
  [
    'MIG_DATA_WRITE size vs data',
    frame(patch32(encodeMigDataWrite(1, Uint8Array.of(1)), 4, 3)),
    /size 3 but 1 data bytes/,
  ],
  ['an unknown command', frame(encodeCommand(1, 77)), /unknown command 77/],
];

describe('per-command validation', () => {
  for (const [name, f, message] of CASES) {
    it(`${name} → EINVAL naming the fault`, () => {
      const v = validateRequest(f, LIMITS);
      assert.ok(v, 'expected a rejection');
      assert.equal(v.errno, 22);
      assert.match(v.message, message);
    });
  }
  it('well-formed QEMU requests pass', () => {
    const ok: Frame[] = [
      frame(encodeDmaMap(1, { flags: 3, address: 0n, size: 4096n }), [5]),
      frame(encodeDmaUnmap(1, { flags: 2, address: 0n, size: 0n })),
      frame(encodeDeviceGetInfo(1)),
      frame(encodeGetRegionInfo(1, 2, 32)),
      frame(encodeSetIrqs(1, { flags: TRIGGER_EVENTFD, index: 2, start: 0, count: 1 })),
      frame(encodeSetIrqs(1, { flags: TRIGGER_EVENTFD, index: 2, start: 0, count: 2 }), [1, 2]),
      frame(encodeSetIrqs(1, { flags: 0x21, index: 2, start: 0, count: 0 })),
      frame(encodeRegionRead(1, 7, 0, 4096)),
      frame(encodeRegionWrite(1, 0, 0, new Uint8Array(1 << 20))),
      frame(encodeDeviceReset(1)),
    ];
    for (const f of ok)
      assert.equal(validateRequest(f, LIMITS), null, `command ${f.header.command}`);
  });
});
