/**
 * A DMA window backed by a client's memory fd (DMA_MAP with an fd): reads and writes go
 * through pread/pwrite at the window's file offset, so nothing is mapped into this process.
 *
 * Rules: the window owns the fd (close() closes it); accesses are bounds- and
 * protection-checked here too (RangeError), though the session checks first. A regular file
 * (memfd) shorter than the window is refused at creation: touching past its end would fault
 * in a mapping and would grow the client's file through pwrite.
 */
import { closeSync, fstatSync } from 'node:fs';
import { DmaMapFlags } from '../uapi/vfio.js';
import type { DmaRegionAccess } from '../vfio-user/server/host.js';
import { HostError } from './errors.js';
import { preadFull, pwriteFull } from './fd-io.js';

export class FdDmaRegion implements DmaRegionAccess {
  private open = true;
  private readonly length: number;

  /** Takes ownership of `fd` only on success. */
  constructor(
    readonly fd: number,
    readonly offset: bigint,
    readonly size: bigint,
    readonly prot: number,
  ) {
    if (offset < 0n || size <= 0n || size > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`bad DMA window offset ${offset} size ${size}`);
    }
    this.length = Number(size);
    const st = fstatSync(fd, { bigint: true });
    if (st.isFile() && st.size < offset + size) {
      throw new HostError(
        'E_BAD_FD',
        `DMA fd covers ${st.size} bytes, window needs offset ${offset} + size ${size}`,
      );
    }
  }

  private check(at: number, length: number, bit: number, what: string): void {
    if (!this.open) throw new RangeError('DMA window is closed');
    if (!(at >= 0 && length >= 0 && at + length <= this.length)) {
      throw new RangeError(`DMA ${what} [${at}, +${length}) outside window of ${this.length}`);
    }
    if ((this.prot & bit) === 0) throw new RangeError(`DMA ${what} not permitted by the window`);
  }

  read(at: number, length: number): Uint8Array {
    this.check(at, length, DmaMapFlags.READ, 'read');
    const out = new Uint8Array(length);
    preadFull(this.fd, out, this.offset + BigInt(at));
    return out;
  }

  write(at: number, data: Uint8Array): void {
    this.check(at, data.length, DmaMapFlags.WRITE, 'write');
    pwriteFull(this.fd, data, this.offset + BigInt(at));
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    closeSync(this.fd);
  }
}
