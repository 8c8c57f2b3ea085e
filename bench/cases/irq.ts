/**
 * Case 7: interrupt latency. The client hands the server an eventfd with SET_IRQS, asks the
 * device to raise the vector with a posted write of V to BAR0 + EMU_IRQ_TRIGGER (an emulator
 * doorbell, not on real hardware), and times from that send until its own event loop sees the
 * eventfd readable (EventFd.watch). MSI-X: index 2, vector 0. INTx: index 0; INTx automasks,
 * so after each interrupt the line is de-asserted (EMU_INTX_DEASSERT) and unmasked with
 * SET_IRQS(DATA_NONE|ACTION_UNMASK) before the next one (not timed).
 */
import { EventFd } from '../../src/host/eventfd.js';
import { EMU_INTX_DEASSERT, EMU_IRQ_TRIGGER } from '../../src/hw/bar0.js';
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { IrqSetFlags, PciIrq } from '../../src/vfio-user/protocol/index.js';
import { CONFIG, enableMemorySpace, findMsix, u32le } from '../lib/device.js';
import { median, Samples } from '../lib/stats.js';
import { connectClient, spawnTarget } from '../lib/targets.js';
import type { CaseContext, RawRow } from '../lib/types.js';

const PCI_MSIX_FLAGS_ENABLE = 0x8000;

class Waiter {
  private resolve: (() => void) | null = null;
  constructor(readonly efd: EventFd) {
    efd.watch(() => {
      const r = this.resolve;
      this.resolve = null;
      r?.();
    });
  }
  next(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.resolve = null;
        reject(new Error(`no interrupt within ${timeoutMs} ms`));
      }, timeoutMs);
      this.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

async function measure(
  c: VfioUserClient,
  waiter: Waiter,
  vector: number,
  reps: number,
  windowMs: number,
  after?: () => Promise<void>,
): Promise<{ reps: number[]; all: Samples }> {
  const all = new Samples();
  const perRep: number[] = [];
  const trigger = u32le(vector);
  const one = async (s: Samples | null) => {
    const p = waiter.next(2000);
    const t0 = performance.now();
    c.regionWritePosted(0, EMU_IRQ_TRIGGER, trigger);
    await p;
    s?.push((performance.now() - t0) * 1000);
    if (after) await after();
  };
  for (let i = 0; i < 200; i++) await one(null);
  for (let r = 0; r < reps; r++) {
    const s = new Samples();
    const end = performance.now() + windowMs;
    while (performance.now() < end) await one(s);
    for (const v of s.values()) all.push(v);
    perRep.push(median(Array.from(s.values())));
  }
  return { reps: perRep, all };
}

export async function runIrq(ctx: CaseContext): Promise<RawRow[]> {
  if (ctx.spec.against !== 'server') return []; // the floor has no interrupts
  const target = spawnTarget(ctx.server);
  const rows: RawRow[] = [];
  try {
    const c = await connectClient(target);
    await enableMemorySpace(c);
    const trig = IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER;

    // MSI-X: what a guest does — enable it in the capability, then the VMM wires the vector.
    const msix = await findMsix(c);
    if (msix === null) throw new Error('no MSI-X capability');
    const efd = EventFd.create();
    const waiter = new Waiter(efd);
    await c.setIrqs({ flags: trig, index: PciIrq.MSIX, start: 0, count: 1 }, [efd.fd]);
    const ctl = await c.regionRead(CONFIG, msix + 2, 2);
    const v = ((ctl[0] ?? 0) | ((ctl[1] ?? 0) << 8) | PCI_MSIX_FLAGS_ENABLE) & 0xbfff;
    await c.regionWrite(CONFIG, msix + 2, new Uint8Array([v & 0xff, v >> 8]));
    const m = await measure(c, waiter, 0, ctx.spec.reps, ctx.spec.windowMs);
    rows.push({
      group: 7,
      case: 'interrupt latency MSI-X',
      server: ctx.server.name,
      unit: 'µs',
      reps: m.reps,
      p99: m.all.percentile(99),
      p99Unit: 'µs',
    });
    await c.setIrqs({
      flags: IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_TRIGGER,
      index: PciIrq.MSIX,
      start: 0,
      count: 0,
    });
    await c.regionWrite(CONFIG, msix + 2, new Uint8Array([v & 0xff, (v & 0x7fff) >> 8]));
    efd.close();

    // INTx: automasked on delivery; de-assert and unmask after each one.
    const efd2 = EventFd.create();
    const waiter2 = new Waiter(efd2);
    await c.setIrqs({ flags: trig, index: PciIrq.INTX, start: 0, count: 1 }, [efd2.fd]);
    const unmask = async () => {
      c.regionWritePosted(0, EMU_INTX_DEASSERT, u32le(1));
      await c.setIrqs({
        flags: IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_UNMASK,
        index: PciIrq.INTX,
        start: 0,
        count: 1,
      });
    };
    const x = await measure(c, waiter2, 0, ctx.spec.reps, ctx.spec.windowMs, unmask);
    rows.push({
      group: 7,
      case: 'interrupt latency INTx',
      server: ctx.server.name,
      unit: 'µs',
      reps: x.reps,
      p99: x.all.percentile(99),
      p99Unit: 'µs',
      notes: 'each followed by de-assert + SET_IRQS unmask (not timed)',
    });
    efd2.close();
    c.close();
    return rows;
  } finally {
    await target.stop();
  }
}
