/**
 * The dispatch table: command number → handler. VERSION is not here: it changes the session's
 * own state, so the session negotiates it (handle-version.ts computes the result). Commands absent from the table (the
 * server→client DMA_READ/WRITE, the removed 14, unknown numbers) are rejected by validation.
 */
import { Command } from '../protocol/constants.js';
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

export const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [Command.DMA_MAP, handleDmaMap],
  [Command.DMA_UNMAP, handleDmaUnmap],
  [Command.DEVICE_GET_INFO, handleDeviceGetInfo],
  [Command.DEVICE_GET_REGION_INFO, handleGetRegionInfo],
  [Command.DEVICE_GET_REGION_IO_FDS, handleGetRegionIoFds],
  [Command.DEVICE_GET_IRQ_INFO, handleGetIrqInfo],
  [Command.DEVICE_SET_IRQS, handleSetIrqs],
  [Command.REGION_READ, handleRegionRead],
  [Command.REGION_WRITE, handleRegionWrite],
  [Command.DEVICE_RESET, handleDeviceReset],
  [Command.REGION_WRITE_MULTI, handleRegionWriteMulti],
  [Command.DEVICE_FEATURE, handleDeviceFeature],
  [Command.MIG_DATA_READ, handleMigData],
  [Command.MIG_DATA_WRITE, handleMigData],
]);
