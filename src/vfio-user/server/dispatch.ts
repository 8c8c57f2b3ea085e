/**
 * The dispatch table: command number → handler, each handler typed to take what its command's
 * RequestSpec (validate.ts) decodes. VERSION is not here: it changes the session's own state,
 * so the session negotiates it (handle-version.ts computes the result). Commands absent from
 * the table (the server→client DMA_READ/WRITE, the removed 14, unknown numbers) are rejected
 * by validation.
 */
import { Command } from '../protocol/constants.js';
import type { RequestSpec, Requests } from '../protocol/validate.js';
import type { Handler } from './context.js';
import { handleDeviceFeature, handleDeviceReset, handleMigData } from './handle-control.js';
import { handleDmaMap, handleDmaUnmap } from './handle-dma.js';
import {
  handleDeviceGetInfo,
  handleGetIrqInfo,
  handleGetRegionInfo,
  handleGetRegionIoFds,
} from './handle-info.js';
import { handleRegionWrite, handleRegionWriteMulti, handleSetIrqs } from './handle-io.js';
import { handleRegionRead } from './read-path.js';

/** What a command's RequestSpec decodes: the request its handler receives. */
type Decoded<N extends keyof typeof Requests> =
  (typeof Requests)[N] extends RequestSpec<infer T> ? T : never;

/** One entry, by command name: the handler must take what that command's spec decodes. */
function route<N extends keyof typeof Requests>(
  name: N,
  handle: Handler<Decoded<N>>,
): [number, Handler<unknown>] {
  return [Command[name], handle as Handler<unknown>];
}

export const HANDLERS: ReadonlyMap<number, Handler<unknown>> = new Map([
  route('DMA_MAP', handleDmaMap),
  route('DMA_UNMAP', handleDmaUnmap),
  route('DEVICE_GET_INFO', handleDeviceGetInfo),
  route('DEVICE_GET_REGION_INFO', handleGetRegionInfo),
  route('DEVICE_GET_REGION_IO_FDS', handleGetRegionIoFds),
  route('DEVICE_GET_IRQ_INFO', handleGetIrqInfo),
  route('DEVICE_SET_IRQS', handleSetIrqs),
  route('REGION_READ', handleRegionRead),
  route('REGION_WRITE', handleRegionWrite),
  route('DEVICE_RESET', handleDeviceReset),
  route('REGION_WRITE_MULTI', handleRegionWriteMulti),
  route('DEVICE_FEATURE', handleDeviceFeature),
  route('MIG_DATA_READ', handleMigData),
  route('MIG_DATA_WRITE', handleMigData),
]);
