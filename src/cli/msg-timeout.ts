/**
 * The `x-msg-timeout` of QEMU's `vfio-user-pci` for a served device: the one function both
 * printed QEMU command lines take it from (the banner's, qemu-cmdline.ts; vm-config's,
 * vm-config/qemu-args.ts and format-libvirt.ts).
 *
 * Rules (QEMU hw/vfio-user/pci.c, proxy.c; docs/protocol.md §4.4): the property is a uint32
 * of milliseconds, default 5000; vfio_user_send_wait() fails a request whose reply has not
 * come by then with ETIMEDOUT and forgets it, so the late reply is an "unexpected reply".
 * Our server holds a reply only in the post-reset gate (nvgrace/gate-wait.ts): a device whose
 * gate never waits keeps QEMU's default (the property is left out); otherwise the timeout is
 * the longest gate wait plus the default, which remains the allowance for the reply itself
 * (timer lateness on a loaded host included).
 */
import { type GateWaitFacts, longestGateWaitMs } from '../nvgrace/gate-wait.js';

/** DEFINE_PROP_UINT32("x-msg-timeout", ..., 5000) in hw/vfio-user/pci.c. */
export const QEMU_MSG_TIMEOUT_DEFAULT_MS = 5000;

/** The x-msg-timeout (ms) to set, or undefined where QEMU's default covers every reply. */
export function vfioUserMsgTimeoutMs(gate: GateWaitFacts | null): number | undefined {
  const wait = gate === null ? 0 : longestGateWaitMs(gate);
  return wait === 0 ? undefined : wait + QEMU_MSG_TIMEOUT_DEFAULT_MS;
}

/** The vfio-user-pci JSON property for it: `{"x-msg-timeout": ms}`, or nothing. */
export function msgTimeoutProperty(ms: number | undefined): { 'x-msg-timeout'?: number } {
  return ms === undefined ? {} : { 'x-msg-timeout': ms };
}
