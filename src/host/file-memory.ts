/**
 * Device memory in a sparse shared file: an anonymous memfd, or a named file for persistence
 * (--memory-file). The fd is what the VMM maps.
 *
 * Rules: never allocate in proportion to the size (ftruncate makes a hole); an existing
 * memory file must have exactly the requested size — it is refused, never truncated.
 * The memfd is sealed at its size (a peer holds the fd too) and accessed through an
 * in-process mapping where that cannot allocate (MemoryWindows: writes, and reads of pages
 * known to hold data), with pread for the rest. A memory file uses pread/pwrite only: it
 * cannot be sealed, and on a full disk a mapped write would be SIGBUS, not an error.
 *
 * A memory file is opened without following a symlink and must belong to the effective
 * user, unless the caller allows it (`allowForeign`): a root server given a path in a shared
 * directory must not serve, and let a guest overwrite, whatever the link points to. A full
 * filesystem (ENOSPC, EDQUOT) is a HostResourceError carrying ENOSPC, not a bug. Writes are
 * flushed (fdatasync) at close, and after every write with `sync: 'always'`.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, lstatSync, openSync } from 'node:fs';
import type { MemoryBacking } from '../hw/memory.js';
import { native } from '../native/addon.js';
import { Errno } from '../uapi/errno.js';
import { HostResourceError } from '../vfio-user/server/host.js';
import { HostError } from './errors.js';
import { preadFull, pwriteFull } from './fd-io.js';
import { MemoryWindows } from './memory-windows.js';

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad memory size ${size}`);
}

export interface MemoryFileOptions {
  /** Accept a symlink, or a file owned by another user (default false: refused). */
  allowForeign?: boolean;
  /** 'always': fdatasync after every write; 'shutdown' (default): only at close. */
  sync?: 'always' | 'shutdown';
}

const OUT_OF_SPACE = new Set(['ENOSPC', 'EDQUOT']);

export class FileMemory implements MemoryBacking {
  private open = true;

  private constructor(
    readonly fd: number,
    readonly size: number,
    /** The file path, or undefined for an anonymous memfd. */
    readonly path: string | undefined,
    private readonly windows: MemoryWindows | null = null,
    private readonly syncAlways = false,
  ) {}

  /** An unlinked, sparse memfd of `size` bytes. */
  static anonymous(size: number, name = 'nvgrace-user-memory'): FileMemory {
    checkSize(size);
    const n = native();
    const fd = n.memfdCreate(name);
    try {
      n.ftruncateFd(fd, size);
      n.sealSize(fd);
    } catch (error) {
      n.closeFd(fd);
      throw error;
    }
    return new FileMemory(fd, size, undefined, size > 0 ? new MemoryWindows(fd, size) : null);
  }

  /**
   * The memory file at `path`: created sparse (mode 0600) at `size` if absent; opened if it
   * exists with exactly `size` bytes; refused otherwise.
   */
  static openFile(path: string, size: number, opts: MemoryFileOptions = {}): FileMemory {
    checkSize(size);
    const foreignOk = opts.allowForeign === true;
    let fd: number;
    let created = false;
    try {
      fd = openSync(path, constants.O_RDWR | (foreignOk ? 0 : constants.O_NOFOLLOW));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP' && isSymlink(path)) {
        throw new HostError(
          'E_MEMFILE_UNSAFE',
          `memory file ${path} is a symlink; refusing to follow it (name the file itself, or pass --allow-foreign-memory-file)`,
        );
      }
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new HostError('E_MEMFILE_OPEN', `memory file ${path}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      try {
        fd = openSync(
          path,
          constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o600,
        );
        created = true;
      } catch (error2) {
        throw new HostError('E_MEMFILE_OPEN', `memory file ${path}: ${(error2 as Error).message}`, {
          cause: error2,
        });
      }
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      if (!st.isFile()) {
        throw new HostError('E_MEMFILE_NOT_REGULAR', `memory file ${path}: not a regular file`);
      }
      const me = process.geteuid?.();
      if (!foreignOk && me !== undefined && st.uid !== BigInt(me)) {
        throw new HostError(
          'E_MEMFILE_UNSAFE',
          `memory file ${path} belongs to uid ${st.uid}, not to this user (uid ${me}); refusing it (pass --allow-foreign-memory-file if that is intended)`,
        );
      }
      if (created) native().ftruncateFd(fd, size);
      else if (st.size !== BigInt(size)) {
        throw new HostError(
          'E_MEMFILE_SIZE',
          `memory file ${path} is ${st.size} bytes but the device memory is ${size} bytes; refusing to resize it (remove it or pick the matching --mem-size)`,
        );
      }
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return new FileMemory(fd, size, path, null, opts.sync === 'always');
  }

  readInto(offset: number, target: Uint8Array): void {
    if (this.windows?.tryRead(offset, target)) return;
    preadFull(this.fd, target, offset);
  }

  view(offset: number, length: number): Uint8Array | null {
    return this.windows?.view(offset, length) ?? null;
  }

  write(offset: number, data: Uint8Array): void {
    if (this.windows) {
      this.windows.write(offset, data);
      return;
    }
    try {
      pwriteFull(this.fd, data, offset);
      if (this.syncAlways) fdatasyncSync(this.fd);
    } catch (error) {
      throw this.hostError(error, 'writing');
    }
  }

  /** Flush written data to the file's storage (a memfd has none: nothing to do). */
  sync(): void {
    if (this.path === undefined || !this.open) return;
    try {
      fdatasyncSync(this.fd);
    } catch (error) {
      throw this.hostError(error, 'flushing');
    }
  }

  /** Flushes a memory file first (a failure there is thrown after the fd is closed). */
  close(): void {
    if (!this.open) return;
    let failure: unknown;
    try {
      this.sync();
    } catch (error) {
      failure = error;
    }
    this.open = false;
    this.windows?.close();
    closeSync(this.fd);
    if (failure) throw failure;
  }

  private hostError(error: unknown, what: string): unknown {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code && OUT_OF_SPACE.has(code)) {
      return new HostResourceError(
        Errno.ENOSPC,
        `memory file ${this.path}: no space left ${what} device memory (${code})`,
        { cause: error },
      );
    }
    return error;
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
