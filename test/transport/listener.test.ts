import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { native } from '../../src/native/addon.js';
import type { Connection } from '../../src/vfio-user/transport/types.js';
import {
  connectUnix,
  listenFd,
  listenUnix,
  probeSocketPath,
} from '../../src/vfio-user/transport/unix-socket.js';
import { collect, tempDir, until } from './helpers.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

test('the socket file is created mode 0600 and removed on close', () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 's.sock');
    const l = listenUnix(path);
    assert.equal(l.path, path);
    const st = lstatSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    l.close();
    l.close();
    assert.equal(existsSync(path), false);
  } finally {
    t.cleanup();
  }
});

test('a path held by a live server is refused with E_ADDR_IN_USE', () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 's.sock');
    const l = listenUnix(path);
    assert.equal(probeSocketPath(path), 'live');
    assert.equal(
      code(() => listenUnix(path)),
      'E_ADDR_IN_USE',
    );
    assert.ok(lstatSync(path).isSocket(), 'the live server keeps its socket file');
    l.close();
  } finally {
    t.cleanup();
  }
});

test('a stale socket file (nobody listening) is replaced', async () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 's.sock');
    // A socket file left behind by a process that died: bind without listen, then close.
    const fd = native().listenPath(path, 1);
    native().closeFd(fd);
    assert.equal(probeSocketPath(path), 'stale');
    const l = listenUnix(path);
    const accepted = new Promise<Connection>((r) => l.onConnection(r));
    const c = await connectUnix(path);
    const s = await accepted;
    c.close();
    s.close();
    l.close();
  } finally {
    t.cleanup();
  }
});

test('a regular file at the socket path is refused and left alone', () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 'not-a-socket');
    writeFileSync(path, 'precious');
    assert.equal(
      code(() => listenUnix(path)),
      'E_PATH_NOT_SOCKET',
    );
    assert.equal(readFileSync(path, 'utf8'), 'precious');
  } finally {
    t.cleanup();
  }
});

test('closing a listener leaves a socket file that another server put there', () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 's.sock');
    const a = listenUnix(path);
    // Someone removes our file and starts their own server on the path.
    spawnSync('rm', [path]);
    const b = listenUnix(path);
    a.close();
    assert.ok(existsSync(path));
    b.close();
    assert.equal(existsSync(path), false);
  } finally {
    t.cleanup();
  }
});

test('connecting to a path with no server fails with E_CONNECT', async () => {
  const t = tempDir();
  try {
    await assert.rejects(connectUnix(join(t.dir, 'nobody')), { code: 'E_CONNECT' });
  } finally {
    t.cleanup();
  }
});

test('listenFd serves an inherited listening socket', async () => {
  const t = tempDir();
  try {
    const path = join(t.dir, 'inherited.sock');
    const fd = native().listenPath(path, 4); // as systemd would hand it over
    const l = listenFd(fd);
    assert.equal(l.path, undefined);
    const accepted = new Promise<Connection>((r) => l.onConnection(r));
    const c = await connectUnix(path);
    const s = await accepted;
    const got = collect(s);
    c.send(Buffer.from('hi'));
    await until(() => got.bytes().length === 2, 'data over inherited socket');
    c.close();
    s.close();
    l.close();
    assert.ok(statSync(path).isSocket(), 'an inherited socket file is not ours to remove');
  } finally {
    t.cleanup();
  }
});

test('listenFd refuses an fd that is not a listening unix stream socket', () => {
  const t = tempDir();
  try {
    const efd = native().eventfdCreate(0, false);
    assert.equal(
      code(() => listenFd(efd)),
      'E_BAD_LISTEN_FD',
    );
    native().closeFd(efd);
    assert.equal(
      code(() => listenFd(-1)),
      'E_BAD_LISTEN_FD',
    );
  } finally {
    t.cleanup();
  }
});
