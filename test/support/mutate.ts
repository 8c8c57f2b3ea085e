/**
 * Message mutation for the fuzzer and the property tests: a corpus of valid QEMU-like
 * messages (what QEMU 10.1 sends while attaching and running a guest) and mutations of them —
 * bit flips, interesting values in header and payload fields, length changes, splices of two
 * messages, command/flag swaps — plus a choice of fds to attach (eventfds, memfds).
 *
 * Rules: pure (no Node APIs); every random choice comes from the Rng passed in, so a seed
 * reproduces a run. Sizes stay bounded (no mutation makes a message larger than 2 × the
 * largest corpus message + 64 bytes).
 */

import { QEMU_CAPABILITIES } from '../../src/vfio-user/client/client.js';
import {
  Command,
  DmaMapFlags,
  DmaUnmapFlags,
  encodeDeviceGetInfo,
  encodeDeviceReset,
  encodeDmaMap,
  encodeDmaUnmap,
  encodeGetIrqInfo,
  encodeGetRegionInfo,
  encodeHeader,
  encodeRegionRead,
  encodeRegionWrite,
  encodeRegionWriteMulti,
  encodeSetIrqs,
  encodeVersion,
  IrqSetFlags,
  MAX_MSG_SIZE,
  PciIrq,
} from '../../src/vfio-user/protocol/index.js';

/** A small deterministic PRNG (xorshift32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
}

export type FdKind = 'eventfd' | 'memfd';

export interface Seed {
  name: string;
  bytes: Uint8Array;
  /** fds this message carries when valid. */
  fds: FdKind[];
}

const RW = DmaMapFlags.READ | DmaMapFlags.WRITE;
const EVT_TRIG = IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER;
const NONE_TRIG = IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_TRIGGER;

/** Valid messages as QEMU 10.1 sends them (ids are rewritten by the mutator). */
export function corpus(): Seed[] {
  const s = (name: string, bytes: Uint8Array, fds: FdKind[] = []): Seed => ({ name, bytes, fds });
  const small = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  return [
    s('VERSION', encodeVersion(0, 0, 0, QEMU_CAPABILITIES)),
    s('DMA_MAP fd', encodeDmaMap(0, { flags: RW, address: 0n, size: 0x10000n }), ['memfd']),
    s(
      'DMA_MAP no fd',
      encodeDmaMap(0, { flags: DmaMapFlags.READ, address: 0xfffc0000n, size: 0x40000n }),
    ),
    s('DMA_UNMAP', encodeDmaUnmap(0, { address: 0xfffc0000n, size: 0x40000n })),
    s('DMA_UNMAP ALL', encodeDmaUnmap(0, { flags: DmaUnmapFlags.ALL, address: 0n, size: 0n })),
    s('GET_INFO', encodeDeviceGetInfo(0)),
    ...[0, 2, 4, 6, 7].map((i) => s(`REGION_INFO ${i}`, encodeGetRegionInfo(0, i, 32))),
    s('REGION_INFO 4 full', encodeGetRegionInfo(0, 4, 80)),
    ...[0, 1, 2, 3].map((i) => s(`IRQ_INFO ${i}`, encodeGetIrqInfo(0, i))),
    s(
      'SET_IRQS INTx eventfd',
      encodeSetIrqs(0, { flags: EVT_TRIG, index: PciIrq.INTX, start: 0, count: 1 }),
      ['eventfd'],
    ),
    s(
      'SET_IRQS INTx unmask eventfd',
      encodeSetIrqs(0, {
        flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_UNMASK,
        index: PciIrq.INTX,
        start: 0,
        count: 1,
      }),
      ['eventfd'],
    ),
    s(
      'SET_IRQS INTx mask',
      encodeSetIrqs(0, {
        flags: IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_MASK,
        index: PciIrq.INTX,
        start: 0,
        count: 1,
      }),
    ),
    s(
      'SET_IRQS MSI-X 2 eventfds',
      encodeSetIrqs(0, { flags: EVT_TRIG, index: PciIrq.MSIX, start: 0, count: 2 }),
      ['eventfd', 'eventfd'],
    ),
    s(
      'SET_IRQS MSI-X on, no vectors',
      encodeSetIrqs(0, { flags: EVT_TRIG, index: PciIrq.MSIX, start: 0, count: 1 }),
    ),
    s(
      'SET_IRQS MSI-X off',
      encodeSetIrqs(0, { flags: NONE_TRIG, index: PciIrq.MSIX, start: 0, count: 0 }),
    ),
    s(
      'SET_IRQS ERR eventfd',
      encodeSetIrqs(0, { flags: EVT_TRIG, index: PciIrq.ERR, start: 0, count: 1 }),
      ['eventfd'],
    ),
    s(
      'SET_IRQS bool',
      encodeSetIrqs(0, {
        flags: IrqSetFlags.DATA_BOOL | IrqSetFlags.ACTION_TRIGGER,
        index: PciIrq.MSI,
        start: 0,
        count: 1,
        bools: new Uint8Array([1]),
      }),
    ),
    s('config read 256', encodeRegionRead(0, 7, 0, 256)),
    s('config read 4', encodeRegionRead(0, 7, 0x10, 4)),
    s('config write cmd', encodeRegionWrite(0, 7, 4, new Uint8Array([6, 0]))),
    s('config write BAR', encodeRegionWrite(0, 7, 0x18, new Uint8Array([0xff, 0xff, 0xff, 0xff]))),
    s('config write ext', encodeRegionWrite(0, 7, 0x488, new Uint8Array([1, 0, 0, 0]))),
    s('BAR0 read', encodeRegionRead(0, 0, 0, 4)),
    s('BAR0 write posted', encodeRegionWrite(0, 0, 0x100, small.subarray(0, 4), true)),
    s('BAR2 read', encodeRegionRead(0, 2, 0x1000, 8)),
    s('BAR4 read 64K', encodeRegionRead(0, 4, 0x200000, 65536)),
    s('BAR4 write', encodeRegionWrite(0, 4, 0x300000, small)),
    s('BAR4 write posted', encodeRegionWrite(0, 4, 0x300008, small, true)),
    s(
      'WRITE_MULTI',
      encodeRegionWriteMulti(
        0,
        [
          { region: 4, offset: 0x400000n, data: small },
          { region: 0, offset: 0x104n, data: small.subarray(0, 4) },
        ],
        true,
      ),
    ),
    s('RESET', encodeDeviceReset(0)),
  ];
}

const INTERESTING_32 = [
  0,
  1,
  2,
  7,
  8,
  15,
  16,
  17,
  31,
  32,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xfff,
  0x1000,
  0xffff,
  0x10000,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
  MAX_MSG_SIZE - 1,
  MAX_MSG_SIZE,
  MAX_MSG_SIZE + 1,
];
const COMMANDS = [...Object.values(Command), 0, 19, 99, 0xffff];

export interface Mutated {
  bytes: Uint8Array;
  fds: FdKind[];
  /** What was done, for reports. */
  how: string[];
}

function setU32(b: Uint8Array, at: number, v: number): void {
  if (at + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true);
}

/**
 * Mutate one corpus message `rounds` times. With `keepFraming` the header size field is set to
 * the real length afterwards (the stream stays in sync; used by tests that must keep a
 * connection), otherwise it may lie.
 */
export function mutate(
  rng: Rng,
  seeds: readonly Seed[],
  opts: { msgId: number; keepFraming: boolean; rounds?: number },
): Mutated {
  const seed = rng.pick(seeds);
  let b = seed.bytes.slice();
  let fds = [...seed.fds];
  const how = [seed.name];
  const rounds = opts.rounds ?? 1 + rng.int(3);
  const cap = 2 * 65600 + 64;
  for (let r = 0; r < rounds; r++) {
    switch (rng.int(10)) {
      case 0: {
        const bit = rng.int(b.length * 8);
        b[bit >> 3]! ^= 1 << (bit & 7);
        how.push(`flip bit ${bit}`);
        break;
      }
      case 1: {
        const at = rng.int(Math.max(1, b.length - 3)) & ~3;
        const v = rng.pick(INTERESTING_32);
        setU32(b, at, v);
        how.push(`u32 @${at} = 0x${v.toString(16)}`);
        break;
      }
      case 2: {
        const n = 16 + rng.int(Math.max(1, b.length - 15));
        b = b.slice(0, n);
        how.push(`truncate to ${n}`);
        break;
      }
      case 3: {
        const extra = rng.int(64) + 1;
        const out = new Uint8Array(Math.min(cap, b.length + extra));
        out.set(b);
        for (let i = b.length; i < out.length; i++) out[i] = rng.int(256);
        b = out;
        how.push(`extend by ${extra}`);
        break;
      }
      case 4: {
        const other = rng.pick(seeds).bytes;
        const cut = 16 + rng.int(Math.max(1, b.length - 15));
        const from = 16 + rng.int(Math.max(1, other.length - 15));
        const tail = other.subarray(Math.min(from, other.length));
        const out = new Uint8Array(Math.min(cap, cut + tail.length));
        out.set(b.subarray(0, cut));
        out.set(tail.subarray(0, out.length - cut), cut);
        b = out;
        how.push(`splice @${cut}`);
        break;
      }
      case 5: {
        const c = rng.pick(COMMANDS);
        b[2] = c & 0xff;
        b[3] = c >> 8;
        how.push(`command ${c}`);
        break;
      }
      case 6: {
        const f = rng.pick([0, 1, 2, 0xf, 0x10, 0x11, 0x20, 0x21, 0x30, 0xffffffff, rng.u32()]);
        setU32(b, 8, f);
        how.push(`flags 0x${(f >>> 0).toString(16)}`);
        break;
      }
      case 7: {
        fds = rng.chance(0.5)
          ? []
          : Array.from({ length: 1 + rng.int(18) }, () => rng.pick<FdKind>(['eventfd', 'memfd']));
        how.push(`fds ${fds.length}`);
        break;
      }
      case 8: {
        const at = 16 + rng.int(Math.max(1, b.length - 16));
        if (at < b.length) b[at] = rng.pick([0, 0xff, 0x7f, 0x80, rng.int(256)]);
        how.push(`byte @${at}`);
        break;
      }
      default: {
        const at = 16 + (rng.int(Math.max(1, (b.length - 16) >> 3)) << 3);
        if (at + 8 <= b.length) {
          const v = rng.pick([
            0n,
            1n << 63n,
            (1n << 64n) - 1n,
            (1n << 53n) + 1n,
            1n << 40n,
            0xfffffffffffff000n,
          ]);
          new DataView(b.buffer, b.byteOffset).setBigUint64(at, v, true);
          how.push(`u64 @${at} = 0x${v.toString(16)}`);
        }
      }
    }
  }
  if (b.length < 16) {
    const out = new Uint8Array(16);
    out.set(b);
    b = out;
  }
  b[0] = opts.msgId & 0xff;
  b[1] = (opts.msgId >> 8) & 0xff;
  if (opts.keepFraming) {
    const v = new DataView(b.buffer, b.byteOffset);
    encodeHeader(
      {
        msgId: opts.msgId,
        command: v.getUint16(2, true),
        size: b.length,
        flags: v.getUint32(8, true),
        error: v.getUint32(12, true),
      },
      b,
    );
  } else if (rng.chance(0.7)) {
    setU32(b, 4, b.length);
  }
  return { bytes: b, fds, how };
}
