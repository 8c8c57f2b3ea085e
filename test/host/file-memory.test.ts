import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chownSync,
  fstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileMemory } from '../../src/host/file-memory.js';
import { mapFd } from '../../src/host/mapped.js';
import { HostResourceError } from '../../src/vfio-user/server/host.js';

const GiB = 1024 ** 3;

function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nvgrace-user-host-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('an anonymous 512 GiB memory is a sparse file with no blocks allocated', () => {
  const m = FileMemory.anonymous(512 * GiB);
  try {
    const st = fstatSync(m.fd);
    assert.equal(st.size, 512 * GiB);
    assert.ok(st.blocks <= 8, `expected no allocation, got ${st.blocks} blocks`);
    // Touching the last byte allocates one page, not the whole file.
    m.write(512 * GiB - 1, Uint8Array.of(0x5a));
    const out = new Uint8Array(2);
    m.readInto(512 * GiB - 2, out);
    assert.deepEqual([...out], [0, 0x5a]);
    assert.ok(fstatSync(m.fd).blocks <= 64);
  } finally {
    m.close();
  }
});

test('bytes written through the backing are visible through a mapping of its fd, and back', () => {
  const m = FileMemory.anonymous(1 << 20);
  try {
    m.write(4096 + 10, Buffer.from('written by pwrite'));
    const map = mapFd(m.fd, 4096, 8192, true);
    assert.equal(Buffer.from(map.buffer.subarray(10, 27)).toString(), 'written by pwrite');
    map.buffer.set(Buffer.from('stored via mmap'), 100);
    const out = Buffer.alloc(15);
    m.readInto(4096 + 100, out);
    assert.equal(out.toString(), 'stored via mmap');
    map.unmap();
    map.unmap();
    assert.equal(map.buffer.length, 0, 'the view is detached after unmap');
  } finally {
    m.close();
  }
});

test('unwritten memory reads as zeros, including reads that cross into written bytes', () => {
  const m = FileMemory.anonymous(1 << 16);
  try {
    m.write(100, Uint8Array.of(1, 2, 3));
    const out = new Uint8Array(8).fill(0xee);
    m.readInto(98, out);
    assert.deepEqual([...out], [0, 0, 1, 2, 3, 0, 0, 0]);
  } finally {
    m.close();
  }
});

test('a memory file is created at the requested size, sparse, mode 0600', () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 'mem');
    const m = FileMemory.openFile(path, 64 * GiB);
    const st = statSync(path);
    assert.equal(st.size, 64 * GiB);
    assert.ok(st.blocks <= 8);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(m.path, path);
    m.close();
  } finally {
    t.cleanup();
  }
});

test('a memory file keeps its contents across reopen', () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 'mem');
    const a = FileMemory.openFile(path, 1 << 20);
    a.write(12345, Buffer.from('persist me'));
    a.close();
    const b = FileMemory.openFile(path, 1 << 20);
    const out = Buffer.alloc(10);
    b.readInto(12345, out);
    assert.equal(out.toString(), 'persist me');
    b.close();
  } finally {
    t.cleanup();
  }
});

test('a memory file of the wrong size is refused, not truncated', () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 'mem');
    writeFileSync(path, Buffer.alloc(4096, 7));
    assert.throws(() => FileMemory.openFile(path, 8192), { code: 'E_MEMFILE_SIZE' });
    assert.equal(statSync(path).size, 4096);
  } finally {
    t.cleanup();
  }
});

test('a directory as memory file is refused', () => {
  const t = tempDir();
  try {
    assert.throws(
      () => FileMemory.openFile(t.dir, 4096),
      (e: { code?: string }) => ['E_MEMFILE_NOT_REGULAR', 'E_MEMFILE_OPEN'].includes(e.code ?? ''),
    );
  } finally {
    t.cleanup();
  }
});

test('a memory file that is a symlink is refused with E_MEMFILE_UNSAFE unless allowed', () => {
  const { dir, cleanup } = tempDir();
  try {
    const target = join(dir, 'target.bin');
    writeFileSync(target, Buffer.alloc(8192));
    const link = join(dir, 'link.bin');
    symlinkSync(target, link);
    assert.throws(
      () => FileMemory.openFile(link, 8192),
      (e: { code?: string; message: string }) =>
        e.code === 'E_MEMFILE_UNSAFE' && /symlink/.test(e.message),
    );
    const m = FileMemory.openFile(link, 8192, { allowForeign: true });
    m.write(0, Uint8Array.of(7));
    m.close();
    assert.equal(readFileSync(target)[0], 7);
  } finally {
    cleanup();
  }
});

test('a memory file owned by another user is refused with E_MEMFILE_UNSAFE unless allowed', (t) => {
  if (process.geteuid?.() !== 0) {
    t.skip('needs root (to chown a file to another user)');
    return;
  }
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'theirs.bin');
    writeFileSync(path, Buffer.alloc(8192));
    chownSync(path, 65534, 65534);
    assert.throws(
      () => FileMemory.openFile(path, 8192),
      (e: { code?: string; message: string }) =>
        e.code === 'E_MEMFILE_UNSAFE' && /uid 65534/.test(e.message),
    );
    FileMemory.openFile(path, 8192, { allowForeign: true }).close();
  } finally {
    cleanup();
  }
});

test('with sync always every write reaches the file, and close flushes', () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'mem.bin');
    const m = FileMemory.openFile(path, 1 << 20, { sync: 'always' });
    m.write(4096, Buffer.from('durable'));
    assert.equal(readFileSync(path).subarray(4096, 4103).toString(), 'durable');
    m.close();
  } finally {
    cleanup();
  }
});

test('a full filesystem under a memory file is ENOSPC (HostResourceError), not a bug', (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'nvgrace-user-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
  if (mounted.status !== 0) {
    rmSync(mnt, { recursive: true, force: true });
    t.skip('needs permission to mount a small tmpfs (root)');
    return;
  }
  try {
    const m = FileMemory.openFile(join(mnt, 'mem.bin'), 16 << 20);
    try {
      assert.throws(
        () => {
          for (let off = 0; off < 16 << 20; off += 65536)
            m.write(off, new Uint8Array(65536).fill(1));
        },
        (e: unknown) =>
          e instanceof HostResourceError && e.errno === 28 && /no space left/.test(e.message),
      );
    } finally {
      m.close();
    }
  } finally {
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});
