/** The vfio-user server side: ServerSession (state + in-order dispatch), HostOps, DMA windows. */
export type { FdBag, Handler, HandlerContext, PeerCaps } from './context.js';
export { HANDLERS } from './dispatch.js';
export { DmaTable, type DmaWindow } from './dma-table.js';
export { versionReplyCandidates } from './handle-version.js';
export type { DmaRegionAccess, HostOps, LogLevel, Reply, SessionLogger } from './host.js';
export { ServerSession, type SessionOptions } from './session.js';
