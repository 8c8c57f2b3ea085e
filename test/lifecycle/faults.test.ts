/**
 * Process-level faults against the real server (`bin/nvgrace-user serve` as a child):
 * a client SIGKILLed mid-message, SIGTERM while a client is attached, a stale socket file, a
 * second client while one is attached.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { native } from '../../src/native/addon.js';
import { probeSocketPath } from '../../src/vfio-user/transport/index.js';
import { RawPeer } from '../support/raw-peer.js';
import {
  attachClient,
  cleanup,
  fdCount,
  runCli,
  sharedChildServer,
  startChildServer,
  stopChildServer,
  tempDir,
  until,
  untilQuiet,
} from './helpers.js';

const HALF_CLIENT = fileURLToPath(new URL('./half-message-client.js', import.meta.url));
const BAR4 = 4;

describe('a client killed mid-message', () => {
  const server = sharedChildServer();

  it('leaves no partial write, no leaked fd, and the next client is served', async () => {
    const s = server();
    await untilQuiet(s.pid, 200);
    const fd0 = fdCount(s.pid);
    const offset = 0x20000;
    const child = spawn(process.execPath, [HALF_CLIENT, s.socketPath, String(offset)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('half-message client never sent')), 15000);
        child.stdout!.on('data', (d) => {
          if (String(d).includes('sent')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const c = await attachClient(s.socketPath);
    const data = await c.regionRead(BAR4, offset, 65536);
    assert.equal(data.length, 65536);
    assert.ok(
      data.every((b) => b === 0),
      'half a REGION_WRITE must not reach device memory',
    );
    c.close();
    await untilQuiet(s.pid, 200);
    assert.equal(fdCount(s.pid), fd0, 'server fds after the killed client');
    assert.equal(s.exit, null);
  });
});

describe('SIGTERM while a client is attached', () => {
  it('the server exits 0 and removes its socket file', async () => {
    const dir = tempDir();
    try {
      const s = await startChildServer(dir);
      const c = await attachClient(s.socketPath);
      assert.equal((await c.deviceInfo()).numIrqs, 5);
      s.kill('SIGTERM');
      const exit = await s.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, s.stderr());
      assert.equal(existsSync(s.socketPath), false, 'socket file removed');
      await assert.rejects(c.deviceInfo());
      c.close();
    } finally {
      cleanup(dir);
    }
  });
});

describe('SIGTERM during start-up', () => {
  it('while the probe waits for readiness: the server finishes starting, then exits 0 and leaves no socket', async () => {
    const dir = tempDir();
    try {
      const socketPath = join(dir, 'gpu.sock');
      const s = runCli(['serve', '--socket-path', socketPath, '--ready-delay', '2000']);
      await until(() => s.stderr().includes('waiting for C2C link'), 'the probe to wait');
      s.kill('SIGTERM');
      const exit = await s.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, s.stderr());
      assert.match(s.stderr(), /shutting down once start-up ends/);
      assert.equal(existsSync(socketPath), false, 'no socket left behind');
    } finally {
      cleanup(dir);
    }
  });

  it('a second signal during start-up exits at once with 128 + the signal', async () => {
    const dir = tempDir();
    try {
      const s = runCli(['serve', '--socket-path', join(dir, 'gpu.sock'), '--ready-delay', '10000']);
      await until(() => s.stderr().includes('waiting for C2C link'), 'the probe to wait');
      s.kill('SIGTERM');
      await until(() => s.stderr().includes('shutting down once'), 'the first signal to be taken');
      s.kill('SIGTERM');
      assert.deepEqual(await s.exited, { code: 143, signal: null }, s.stderr());
    } finally {
      cleanup(dir);
    }
  });
});

describe('a stale socket file', () => {
  it('is replaced by the new server, which then serves', async () => {
    const dir = tempDir();
    try {
      const path = join(dir, 'gpu.sock');
      // A socket file nobody listens on: what a crashed server leaves behind.
      native().closeFd(native().listenPath(path, 1));
      assert.equal(probeSocketPath(path), 'stale');
      const s = await startChildServer(dir);
      try {
        const c = await attachClient(s.socketPath);
        assert.equal((await c.deviceInfo()).numRegions >= 9, true);
        c.close();
      } finally {
        assert.deepEqual(await stopChildServer(s), { code: 0, signal: null });
      }
    } finally {
      cleanup(dir);
    }
  });

  it('a live server on the path is not replaced: the second one exits with E_ADDR_IN_USE', async () => {
    const dir = tempDir();
    try {
      const s = await startChildServer(dir);
      try {
        const second = runCli(['serve', '--socket-path', s.socketPath, '--log-level', 'silent']);
        const exit = await second.exited;
        assert.equal(exit.code, 2, 'a second server on a live path must refuse to start');
        assert.match(second.stderr(), /E_ADDR_IN_USE/);
        assert.equal(probeSocketPath(s.socketPath), 'live', 'the first server keeps its socket');
        const c = await attachClient(s.socketPath);
        await c.deviceInfo();
        c.close();
      } finally {
        await stopChildServer(s);
      }
    } finally {
      cleanup(dir);
    }
  });
});

describe('a second client while one is attached', () => {
  const server = sharedChildServer();

  it('is refused, and the first keeps working', async () => {
    const s = server();
    const first = await attachClient(s.socketPath);
    const second = await RawPeer.connect(s.socketPath);
    const negotiated = await second.negotiate();
    assert.equal(negotiated, false, 'the second client was served');
    assert.notEqual(await second.hangup(5000), 'timeout', 'the second client was not disconnected');
    assert.equal((await first.deviceInfo()).numIrqs, 5);
    await first.regionWrite(BAR4, 0x1000, new Uint8Array([1, 2, 3, 4]));
    assert.deepEqual([...(await first.regionRead(BAR4, 0x1000, 4))], [1, 2, 3, 4]);
    first.close();
    const third = await attachClient(s.socketPath);
    assert.equal((await third.deviceInfo()).numIrqs, 5);
    third.close();
  });
});
