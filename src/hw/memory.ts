/**
 * Device-memory backing: the seam between the pure model and whatever holds the bytes.
 *
 * Rules: offsets and lengths are plain numbers (device sizes stay far below 2^53);
 * implementations never allocate in proportion to `size` (a 512 GiB device must be
 * cheap); a backing that a VMM can map exposes its file descriptor as `fd`.
 */
export interface MemoryBacking {
  /** Total length in bytes. */
  readonly size: number;
  /** A file descriptor the VMM may mmap (MAP_SHARED), or undefined for a pure in-process backing. */
  readonly fd?: number | undefined;
  /** Copy `target.length` bytes starting at `offset` into `target`. Caller keeps the range in bounds. */
  readInto(offset: number, target: Uint8Array): void;
  /** Store `data` at `offset`. Caller keeps the range in bounds. */
  write(offset: number, data: Uint8Array): void;
  /**
   * The bytes at [offset, offset + length) as a view, when they can be read in place without
   * side effects (no allocation); else null. The view shows later writes: a caller copies or
   * sends it before anything else touches the memory (the server's read path,
   * src/vfio-user/server/read-path.ts). Optional: the default is readInto.
   */
  view?(offset: number, length: number): Uint8Array | null;
  /** Release resources (the fd). Further use is a programming error. */
  close(): void;
}

/**
 * A sparse, pure in-process backing: 64 KiB pages allocated on first write, unwritten
 * bytes read as zero. Used by tests and wherever no VMM needs to map the memory.
 */
export class SparseMemory implements MemoryBacking {
  static readonly PAGE = 0x10000;
  readonly fd = undefined;
  private readonly pages = new Map<number, Uint8Array>();

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad memory size ${size}`);
  }

  /** Number of pages that hold data: the resident set, in pages. */
  get residentPages(): number {
    return this.pages.size;
  }

  readInto(offset: number, target: Uint8Array): void {
    let done = 0;
    while (done < target.length) {
      const pos = offset + done;
      const pageNo = Math.floor(pos / SparseMemory.PAGE);
      const inPage = pos - pageNo * SparseMemory.PAGE;
      const n = Math.min(SparseMemory.PAGE - inPage, target.length - done);
      const page = this.pages.get(pageNo);
      if (!page) target.fill(0, done, done + n);
      else if (n <= 8) for (let i = 0; i < n; i++) target[done + i] = page[inPage + i]!;
      else target.set(page.subarray(inPage, inPage + n), done);
      done += n;
    }
  }

  write(offset: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const pageNo = Math.floor(pos / SparseMemory.PAGE);
      const inPage = pos - pageNo * SparseMemory.PAGE;
      const n = Math.min(SparseMemory.PAGE - inPage, data.length - done);
      let page = this.pages.get(pageNo);
      if (!page) {
        page = new Uint8Array(SparseMemory.PAGE);
        this.pages.set(pageNo, page);
      }
      page.set(data.subarray(done, done + n), inPage);
      done += n;
    }
  }

  close(): void {
    this.pages.clear();
  }
}
