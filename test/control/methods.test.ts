/**
 * The control socket over real sockets, seen from a vfio-user client: status, every fault
 * kind (register values, all-ones reads, errnos), host resets, interrupts (eventfds
 * signalled), release requests, disconnects and the events each one produces, in order.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { C2C_LINK_STATUS, HBM_TRAINING_STATUS, NV_PMC_BOOT_0 } from '../../src/hw/bar0.js';
import { LAYOUT } from '../../src/hw/config-image.js';
import { PCI_ERR_COR_STATUS, PCI_ERR_UNCOR_STATUS } from '../../src/pci/constants.js';
import { Errno } from '../../src/uapi/errno.js';
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { IrqSetFlags } from '../../src/vfio-user/protocol/index.js';
import { le32, u32, until } from '../e2e/helpers.js';
import { type ControlServed, countingEventFd, serveWithControl, type Watched } from './helpers.js';

const CONFIG = 7;
const BAR0 = 0;
const BAR4 = 4;

async function eventfdIrq(c: VfioUserClient, index: number, count = 1) {
  const ev = countingEventFd();
  await c.setIrqs(
    { flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER, index, start: 0, count },
    [ev.fd],
  );
  return ev;
}

describe('control socket: a VMM attached, the host injects faults', () => {
  let s: ControlServed;
  let ctl: Watched;
  let vmm: VfioUserClient;

  before(async () => {
    s = await serveWithControl({ kernel: '6.19' });
    ctl = await s.control();
    vmm = await s.attach();
    await ctl.next('client-attached');
    // The open-time reset arms the ≥6.19 gate: one BAR4 access (card ready) clears it.
    await vmm.regionRead(BAR4, 0, 4);
  });
  after(async () => {
    await s.stop();
  });

  it('the control socket is created mode 0600', () => {
    assert.equal(statSync(s.controlPath).mode & 0o777, 0o600);
  });

  it('get_status reports the attached VMM, profile, band, readiness and counters', async () => {
    const st = (await ctl.client.call('get_status')) as Record<string, any>;
    assert.equal(st.attached, true);
    assert.equal(typeof st.attachedSince, 'string');
    assert.equal(st.profile, 'gh200');
    assert.equal(st.kernel, '6.19');
    assert.deepEqual(st.readiness, { c2cLinkReady: true, hbmTrainingDone: true, ready: true });
    assert.deepEqual(st.faults, []);
    assert.ok(st.resets >= 1, 'the open-time reset is counted');
    assert.ok(st.counters.messages >= 2);
    assert.equal(st.gpus, 1);
  });

  it('link-down makes BAR0 0x1498 read other than 0xFF; clear_faults brings 0xFF back', async () => {
    await ctl.client.call('inject_fault', { kind: 'link-down' });
    assert.notEqual(u32(await vmm.regionRead(BAR0, C2C_LINK_STATUS, 4)), 0xff);
    assert.equal(u32(await vmm.regionRead(BAR0, HBM_TRAINING_STATUS, 4)), 0xff);
    const st = (await ctl.client.call('get_status')) as Record<string, any>;
    assert.deepEqual(st.faults, [{ kind: 'link-down' }]);
    assert.equal(st.readiness.c2cLinkReady, false);
    await ctl.client.call('clear_faults');
    assert.equal(u32(await vmm.regionRead(BAR0, C2C_LINK_STATUS, 4)), 0xff);
  });

  it('hbm-untrained makes BAR0 0x200BC read other than 0xFF', async () => {
    await ctl.client.call('inject_fault', { kind: 'hbm-untrained' });
    assert.notEqual(u32(await vmm.regionRead(BAR0, HBM_TRAINING_STATUS, 4)), 0xff);
    assert.equal(u32(await vmm.regionRead(BAR0, C2C_LINK_STATUS, 4)), 0xff);
    await ctl.client.call('clear_faults');
    assert.equal(u32(await vmm.regionRead(BAR0, HBM_TRAINING_STATUS, 4)), 0xff);
  });

  it('fall-off-bus: BAR0, memory and hardware config fields read all-ones, virtualized ones keep their values; clear_faults brings back the same device with its memory', async () => {
    await vmm.regionWrite(BAR4, 0x1000, le32(0xcafef00d));
    const classBefore = u32(await vmm.regionRead(CONFIG, 8, 4));
    const boot0 = u32(await vmm.regionRead(BAR0, NV_PMC_BOOT_0, 4));
    assert.notEqual(boot0, 0xffffffff);
    const from = ctl.events.length;
    await ctl.client.call('inject_fault', { kind: 'fall-off-bus' });
    assert.equal((await ctl.next('fault-injected', from)).kind, 'fall-off-bus');
    assert.equal(u32(await vmm.regionRead(BAR0, NV_PMC_BOOT_0, 4)), 0xffffffff);
    assert.equal(u32(await vmm.regionRead(BAR4, 0x1000, 4)), 0xffffffff);
    // Revision + class code come from the hardware: all-ones.
    assert.equal(u32(await vmm.regionRead(CONFIG, 8, 4)), 0xffffffff);
    // Vendor/device ID are virtualized by vfio-pci (vconfig): unchanged.
    assert.equal(u32(await vmm.regionRead(CONFIG, 0, 4)), 0x234210de);
    // Writes are dropped.
    await vmm.regionWrite(BAR4, 0x1000, le32(0x11111111));
    await ctl.client.call('clear_faults');
    assert.equal(u32(await vmm.regionRead(CONFIG, 8, 4)), classBefore);
    assert.equal(u32(await vmm.regionRead(BAR0, NV_PMC_BOOT_0, 4)), boot0);
    assert.equal(u32(await vmm.regionRead(BAR4, 0x1000, 4)), 0xcafef00d);
  });

  it('poison: a trapped read touching the range fails EFAULT, others and writes work; memory survives clear_faults', async () => {
    await vmm.regionWrite(BAR4, 0x20000, le32(0x12345678));
    await ctl.client.call('inject_fault', { kind: 'poison', offset: 0x20000, length: 0x1000 });
    await assert.rejects(
      vmm.regionRead(BAR4, 0x20000, 4),
      (e: { errno?: number }) => e.errno === Errno.EFAULT,
    );
    await assert.rejects(
      vmm.regionRead(BAR4, 0x1fffc, 8),
      (e: { errno?: number }) => e.errno === Errno.EFAULT,
    );
    assert.equal(u32(await vmm.regionRead(BAR4, 0x21000, 4)), 0);
    assert.equal(await vmm.regionWrite(BAR4, 0x20004, le32(1)), 4);
    await ctl.client.call('clear_faults');
    assert.equal(u32(await vmm.regionRead(BAR4, 0x20000, 4)), 0x12345678);
  });

  it('reset-stall: a host reset lasts that long, memory reads wait behind the ≥6.19 gate, events tell cause, duration and readiness', async () => {
    await vmm.regionWrite(BAR4, 0x3000, le32(0xabcdef01));
    await ctl.client.call('inject_fault', { kind: 'reset-stall', ms: 300 });
    const from = ctl.events.length;
    const r = (await ctl.client.call('reset_device')) as { durationMs: number };
    assert.equal(r.durationMs, 300);
    const reset = await ctl.next('device-reset', from);
    assert.equal(reset.cause, 'host');
    assert.equal(reset.durationMs, 300);
    const t0 = Date.now();
    assert.equal(u32(await vmm.regionRead(BAR4, 0x3000, 4)), 0xabcdef01);
    assert.ok(Date.now() - t0 >= 250, 'the read waited for the stalled reset');
    const ready = await ctl.next('readiness-reached', from);
    assert.ok((ready.afterMs as number) >= 290);
    await ctl.client.call('clear_faults');
  });

  it('aer uncorrectable signals the ERR eventfd and logs UNCOR_STATUS; correctable only logs COR_STATUS', async () => {
    const err = await eventfdIrq(vmm, 3);
    const cor = (await ctl.client.call('inject_fault', {
      kind: 'aer',
      severity: 'correctable',
    })) as Record<string, unknown>;
    assert.equal(cor.signalled, false);
    assert.ok(u32(await vmm.regionRead(CONFIG, LAYOUT.aer + PCI_ERR_COR_STATUS, 4)) & (1 << 14));
    const unc = (await ctl.client.call('inject_fault', {
      kind: 'aer',
      severity: 'uncorrectable',
    })) as Record<string, unknown>;
    assert.equal(unc.signalled, true);
    assert.equal(unc.fatal, true);
    await until(() => err.count() > 0n, 'ERR eventfd signalled');
    assert.ok(u32(await vmm.regionRead(CONFIG, LAYOUT.aer + PCI_ERR_UNCOR_STATUS, 4)) & (1 << 22));
    err.close();
  });

  it('request_release signals the REQ eventfd (vfio_pci_core_request)', async () => {
    const req = await eventfdIrq(vmm, 4);
    const from = ctl.events.length;
    const r = (await ctl.client.call('request_release')) as { signalled: boolean; count: number };
    assert.equal(r.signalled, true);
    await until(() => req.count() > 0n, 'REQ eventfd signalled');
    assert.equal((await ctl.next('release-requested', from)).signalled, true);
    req.close();
  });

  it('raise_irq signals an MSI-X vector the VMM enabled; irq-mode events tell the mode change', async () => {
    const from = ctl.events.length;
    const v = await eventfdIrq(vmm, 2, 1);
    const mode = await ctl.next('irq-mode', from);
    assert.deepEqual([mode.mode, mode.vectors], ['msix', 1]);
    assert.deepEqual(await ctl.client.call('raise_irq', { index: 2, vector: 0 }), {
      signalled: true,
    });
    await until(() => v.count() > 0n, 'MSI-X eventfd signalled');
    // A vector with no eventfd, or a mode not enabled, is reported as not signalled.
    assert.deepEqual(await ctl.client.call('raise_irq', { index: 1, vector: 0 }), {
      signalled: false,
    });
    await vmm.setIrqs({
      flags: IrqSetFlags.DATA_NONE | IrqSetFlags.ACTION_TRIGGER,
      index: 2,
      start: 0,
      count: 0,
    });
    const off = await ctl.next('irq-mode', ctl.events.indexOf(mode) + 1);
    assert.equal(off.mode, 'none');
    v.close();
  });

  it('a bad gpu index and bad params are -32602', async () => {
    await assert.rejects(
      ctl.client.call('get_status', { gpu: 5 }),
      (e: { code?: number }) => e.code === -32602,
    );
    await assert.rejects(
      ctl.client.call('inject_fault', { kind: 'melt' }),
      (e: { code?: number }) => e.code === -32602,
    );
    await assert.rejects(
      ctl.client.call('inject_fault', { kind: 'poison', offset: 2 ** 52, length: 1 }),
      (e: { code?: number }) => e.code === -32602,
    );
    await assert.rejects(
      ctl.client.call('inject_fault', { kind: 'reset-stall' }),
      (e: { code?: number }) => e.code === -32602,
    );
    await assert.rejects(
      ctl.client.call('raise_irq', { index: 9 }),
      (e: { code?: number }) => e.code === -32602,
    );
    await assert.rejects(
      ctl.client.call('get_status', { gpu: 0, bogus: 1 }),
      (e: { code?: number }) => e.code === -32602,
    );
  });

  it('disconnect_client drops the VMM; detach, then the release reset, arrive as events in order', async () => {
    const from = ctl.events.length;
    assert.deepEqual(await ctl.client.call('disconnect_client'), { disconnected: true });
    await s.server.endpoint.idle();
    await ctl.next('device-reset', from);
    const types = ctl.events.slice(from).map((e) => e.type);
    assert.deepEqual(types.slice(0, 2), ['client-detached', 'device-reset']);
    assert.equal(ctl.events[from + 1]!.cause, 'release');
    assert.deepEqual(await ctl.client.call('disconnect_client'), { disconnected: false });
    const st = (await ctl.client.call('get_status')) as Record<string, unknown>;
    assert.equal(st.attached, false);
  });

  it('a VMM hanging up arrives as client-detached; attaching again as client-attached then the open reset', async () => {
    const from = ctl.events.length;
    const c = await s.attach();
    await ctl.next('client-attached', from);
    c.close();
    await ctl.next('client-detached', from);
    // The previous test's release reset may still report readiness after `from` was taken:
    // the sequence that matters starts at this client's attach.
    const all = ctl.events.slice(from);
    const evs = all.slice(all.findIndex((e) => e.type === 'client-attached'));
    assert.deepEqual(
      evs.slice(0, 2).map((e) => [e.type, e.cause]),
      [
        ['client-attached', undefined],
        ['device-reset', 'open'],
      ],
    );
    const types = evs.map((e) => e.type);
    assert.ok(types.indexOf('client-attached') < types.indexOf('client-detached'));
  });
});
