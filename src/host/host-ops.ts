/**
 * The real HostOps for a vfio-user session: fds received from the client become eventfd
 * sinks and pread/pwrite DMA windows.
 */
import type { HostOps } from '../vfio-user/server/host.js';
import { native } from '../vfio-user/transport/native.js';
import { FdDmaRegion } from './dma-region.js';
import { eventfdSink } from './eventfd.js';

export const nodeHostOps: HostOps = {
  closeFd(fd: number): void {
    native().closeFd(fd);
  },
  sinkFromFd(fd: number) {
    return eventfdSink(fd);
  },
  dmaRegionFromFd(fd: number, offset: bigint, size: bigint, prot: number) {
    return new FdDmaRegion(fd, offset, size, prot);
  },
};
