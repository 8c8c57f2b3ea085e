/**
 * DEVICE_RESET, DEVICE_FEATURE, MIG_DATA_READ/WRITE.
 *
 * Choices: DEVICE_RESET awaits the device's reset (header-only reply; QEMU requires it so).
 * No migration is offered, so DEVICE_FEATURE answers EINVAL — libvfio-user's answer for an
 * unsupported feature, and what the newer QEMU tree maps to "unsupported" (ENOTTY) — and
 * MIG_DATA_READ/WRITE answer EINVAL (no migration state to read or write).
 */
import { fail } from '../../vfio/errors.js';
import { encodeReply } from '../protocol/header.js';
import { andThen, type Handler, reply } from './context.js';

export const handleDeviceReset: Handler = (ctx, frame) =>
  andThen(ctx.device.reset(), () => reply(encodeReply(frame.header.msgId, frame.header.command)));

export const handleDeviceFeature: Handler<{ flags: number }> = (_ctx, _frame, _fds, { flags }) => {
  fail('EINVAL', `device feature ${flags & 0xffff} not supported (no migration)`);
};

export const handleMigData: Handler = () => fail('EINVAL', 'migration is not supported');
