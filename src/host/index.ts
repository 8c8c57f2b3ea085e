/** The host edge: real fds behind the model's interfaces (memory, IRQ sinks, DMA, HostOps). */
export { FdDmaRegion } from './dma-region.js';
export { HostError, type HostErrorCode } from './errors.js';
export { EventFd, type EventFdSink, eventfdSink, isEventFd } from './eventfd.js';
export { dmaMapBudget, FD_RESERVE, type FdLimit, raiseFdLimit } from './fd-budget.js';
export { FileMemory } from './file-memory.js';
export { nodeHostOps } from './host-ops.js';
export { type Mapping, mapFd } from './mapped.js';
export { notifySystemd } from './systemd-notify.js';
export { type FdWatch, watchReadable } from './watch.js';
