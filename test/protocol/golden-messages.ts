/** The golden messages: every message of the protocol with its expected bytes (shared by the wire tests). */
import {
  Command,
  encodeDeviceFeature,
  encodeDeviceGetInfo,
  encodeDeviceGetInfoReply,
  encodeDeviceReset,
  encodeDmaMap,
  encodeDmaRead,
  encodeDmaReadReply,
  encodeDmaUnmap,
  encodeDmaUnmapReply,
  encodeDmaWrite,
  encodeDmaWriteReply,
  encodeErrorReply,
  encodeGetIrqInfo,
  encodeGetIrqInfoReply,
  encodeGetRegionInfo,
  encodeGetRegionInfoReply,
  encodeGetRegionIoFds,
  encodeGetRegionIoFdsReply,
  encodeMigDataRead,
  encodeMigDataReadReply,
  encodeMigDataWrite,
  encodeRegionRead,
  encodeRegionReadReply,
  encodeRegionWrite,
  encodeRegionWriteMulti,
  encodeRegionWriteMultiReply,
  encodeRegionWriteReply,
  encodeSetIrqs,
  encodeVersion,
  encodeVersionReply,
} from '../../src/vfio-user/protocol/index.js';

/** Hex with spaces/underscores for readability → bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s_|]/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

/** Every golden message: name, encoded bytes, expected hex. Shared with the split tests. */
export const GOLDEN: [string, Uint8Array, string][] = [
  [
    'VERSION request 0.0 with {}',
    encodeVersion(1, 0, 0, {}),
    '0100 0100 28000000 00000000 00000000 | 0000 0000 7b226361706162696c6974696573223a7b7d7d 00',
  ],
  [
    'VERSION reply without JSON',
    encodeVersionReply(1, 0, 0, null),
    '0100 0100 14000000 01000000 00000000 | 0000 0000',
  ],
  [
    'DMA_MAP request',
    encodeDmaMap(2, { flags: 3, offset: 0x1000n, address: 0x10_0000n, size: 0x20_0000n }),
    '0200 0200 30000000 00000000 00000000 | 20000000 03000000 0010000000000000 0000100000000000 0000200000000000',
  ],
  [
    'DMA_UNMAP request FLAG_ALL',
    encodeDmaUnmap(3, { flags: 2, address: 0n, size: 0n }),
    '0300 0300 28000000 00000000 00000000 | 18000000 02000000 0000000000000000 0000000000000000',
  ],
  [
    'DMA_UNMAP reply (echo)',
    encodeDmaUnmapReply(3, { argsz: 24, flags: 0, address: 0x1000n, size: 0x2000n }),
    '0300 0300 28000000 01000000 00000000 | 18000000 00000000 0010000000000000 0020000000000000',
  ],
  [
    'DEVICE_GET_INFO request',
    encodeDeviceGetInfo(4),
    '0400 0400 20000000 00000000 00000000 | 10000000 00000000 00000000 00000000',
  ],
  [
    'DEVICE_GET_INFO reply',
    encodeDeviceGetInfoReply(4, { flags: 3, numRegions: 9, numIrqs: 5 }),
    '0400 0400 20000000 01000000 00000000 | 10000000 03000000 09000000 05000000',
  ],
  [
    'GET_REGION_INFO request',
    encodeGetRegionInfo(5, 2, 32),
    '0500 0500 30000000 00000000 00000000 | 20000000 00000000 02000000 00000000 0000000000000000 0000000000000000',
  ],
  [
    'GET_REGION_INFO reply with a sparse cap',
    encodeGetRegionInfoReply(5, {
      argsz: 64,
      flags: 0xf,
      index: 2,
      capOffset: 32,
      size: 0x4000_0000n,
      offset: 0x1000n,
      caps: hex('0100 0100 00000000 01000000 00000000 0000000000000000 0000002000000000'),
    }),
    '0500 0500 50000000 01000000 00000000 | 40000000 0f000000 02000000 20000000 0000004000000000 0010000000000000' +
      '0100 0100 00000000 01000000 00000000 0000000000000000 0000002000000000',
  ],
  [
    'GET_REGION_IO_FDS request',
    encodeGetRegionIoFds(6, 0, 16),
    '0600 0600 20000000 00000000 00000000 | 10000000 00000000 00000000 00000000',
  ],
  [
    'GET_REGION_IO_FDS reply with one ioeventfd',
    encodeGetRegionIoFdsReply(6, 0, [
      { offset: 0x10n, size: 4n, fdIndex: 0, type: 0, flags: 1, data: 0xabn },
    ]),
    '0600 0600 48000000 01000000 00000000 | 38000000 00000000 00000000 01000000 ' +
      '1000000000000000 0400000000000000 00000000 00000000 01000000 00000000 ab00000000000000',
  ],
  [
    'GET_IRQ_INFO request',
    encodeGetIrqInfo(7, 3),
    '0700 0700 20000000 00000000 00000000 | 10000000 00000000 03000000 00000000',
  ],
  [
    'GET_IRQ_INFO reply',
    encodeGetIrqInfoReply(7, { flags: 1, index: 3, count: 1 }),
    '0700 0700 20000000 01000000 00000000 | 10000000 01000000 03000000 01000000',
  ],
  [
    'SET_IRQS INTx EVENTFD|TRIGGER',
    encodeSetIrqs(8, { flags: 0x24, index: 0, start: 0, count: 1 }),
    '0800 0800 24000000 00000000 00000000 | 14000000 24000000 00000000 00000000 01000000',
  ],
  [
    'SET_IRQS MSI BOOL|TRIGGER with data',
    encodeSetIrqs(8, { flags: 0x22, index: 1, start: 0, count: 2, bools: Uint8Array.of(1, 0) }),
    '0800 0800 26000000 00000000 00000000 | 16000000 22000000 01000000 00000000 02000000 0100',
  ],
  [
    'REGION_READ request',
    encodeRegionRead(9, 7, 0, 256),
    '0900 0900 20000000 00000000 00000000 | 0000000000000000 07000000 00010000',
  ],
  [
    'REGION_READ reply',
    encodeRegionReadReply(9, 7, 0x10, Uint8Array.of(0x0c, 0, 0, 0)),
    '0900 0900 24000000 01000000 00000000 | 1000000000000000 07000000 04000000 0c000000',
  ],
  [
    'REGION_WRITE posted',
    encodeRegionWrite(10, 0, 0x100, Uint8Array.of(1, 2), true),
    '0a00 0a00 22000000 10000000 00000000 | 0001000000000000 00000000 02000000 0102',
  ],
  [
    'REGION_WRITE reply',
    encodeRegionWriteReply(10, 0, 0x100, 2),
    '0a00 0a00 20000000 01000000 00000000 | 0001000000000000 00000000 02000000',
  ],
  [
    'DMA_READ request (spec layout)',
    encodeDmaRead(11, 0x1000n, 4),
    '0b00 0b00 20000000 00000000 00000000 | 0010000000000000 0400000000000000',
  ],
  [
    'DMA_READ reply (spec layout)',
    encodeDmaReadReply(11, 0x1000n, Uint8Array.of(9, 8)),
    '0b00 0b00 22000000 01000000 00000000 | 0010000000000000 0200000000000000 0908',
  ],
  [
    'DMA_WRITE request (spec layout)',
    encodeDmaWrite(12, 0x2000n, Uint8Array.of(7)),
    '0c00 0c00 21000000 00000000 00000000 | 0020000000000000 0100000000000000 07',
  ],
  [
    'DMA_WRITE reply (spec layout)',
    encodeDmaWriteReply(12, 0x2000n, 1),
    '0c00 0c00 20000000 01000000 00000000 | 0020000000000000 0100000000000000',
  ],
  ['DEVICE_RESET request', encodeDeviceReset(13), '0d00 0d00 10000000 00000000 00000000'],
  [
    'REGION_WRITE_MULTI posted, one entry',
    encodeRegionWriteMulti(15, [{ offset: 8n, region: 0, data: Uint8Array.of(0xaa, 0xbb) }]),
    '0f00 0f00 30000000 10000000 00000000 | 0100000000000000 0800000000000000 00000000 02000000 aabb000000000000',
  ],
  [
    'REGION_WRITE_MULTI reply',
    encodeRegionWriteMultiReply(15, 1),
    '0f00 0f00 18000000 01000000 00000000 | 0100000000000000',
  ],
  [
    'DEVICE_FEATURE GET MIGRATION',
    encodeDeviceFeature(16, 16, 0x10001),
    '1000 1000 18000000 00000000 00000000 | 10000000 01000100',
  ],
  [
    'MIG_DATA_READ request',
    encodeMigDataRead(17, 64),
    '1100 1100 18000000 00000000 00000000 | 48000000 40000000',
  ],
  [
    'MIG_DATA_READ reply',
    encodeMigDataReadReply(17, Uint8Array.of(5)),
    '1100 1100 19000000 01000000 00000000 | 09000000 01000000 05',
  ],
  [
    'MIG_DATA_WRITE request',
    encodeMigDataWrite(18, Uint8Array.of(6, 6)),
    '1200 1200 1a000000 00000000 00000000 | 0a000000 02000000 0606',
  ],
  [
    'error reply EINVAL',
    encodeErrorReply(9, Command.REGION_READ, 22),
    '0900 0900 10000000 21000000 16000000',
  ],
];
