/**
 * Immediate re-attach against the real server process: a client hangs up (a probe, a whole
 * session, a SIGKILLed VMM) and the next one connects at once and negotiates without a retry.
 * The server must see that the attached client is gone (its hang-up is pending in the kernel
 * even when the EOF has not been read yet) and serve the newcomer; a newcomer while a live
 * client is attached is told EBUSY ("device in use by another VMM"), and the live one keeps
 * working. Figures are printed as test diagnostics.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DeviceBusyError,
  QEMU_CAPABILITIES,
  VfioUserClient,
} from '../../src/vfio-user/client/client.js';
import { Errno, encodeVersion } from '../../src/vfio-user/protocol/index.js';
import { connectUnix } from '../../src/vfio-user/transport/index.js';
import { isProperErrorReply, RawPeer } from '../support/raw-peer.js';
import { closeFd, fdCount, sharedChildServer, untilQuiet } from './helpers.js';

const PROBES = 140;
const SESSIONS = 140;
const KILLS = 20;
const FIXTURE = fileURLToPath(new URL('./attached-client.js', import.meta.url));

/** Connect and negotiate once, no retry: throws if the server does not serve us. */
async function attachOnce(path: string): Promise<VfioUserClient> {
  const c = new VfioUserClient(await connectUnix(path), { closeFd, timeoutMs: 5000 });
  try {
    await c.version();
  } catch (e) {
    c.close();
    throw e;
  }
  return c;
}

/** A VMM-like session: device info, every region's info, a write and a read. */
async function session(c: VfioUserClient): Promise<void> {
  const info = await c.deviceInfo();
  for (let i = 0; i < info.numRegions; i++) {
    const r = await c.regionInfo(i).catch(() => null);
    if (r?.fd != null) closeFd(r.fd);
  }
  await c.regionWrite(4, 0x2000, new Uint8Array([1, 2, 3, 4]));
  assert.deepEqual([...(await c.regionRead(4, 0x2000, 4))], [1, 2, 3, 4]);
}

/** A client process that attaches and is then SIGKILLed: resolves once it is dead. */
async function killedClient(path: string): Promise<void> {
  const child = spawn(process.execPath, [FIXTURE, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.on('exit', r));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('fixture did not attach')), 15000);
    child.stdout!.on('data', () => {
      clearTimeout(t);
      resolve();
    });
  });
  child.kill('SIGKILL');
  await exited;
}

describe('immediate re-attach', () => {
  const server = sharedChildServer();

  it(`${PROBES + SESSIONS + KILLS} cycles (probe, full session, SIGKILLed VMM; then a VMM at once) are all served`, async (t) => {
    const s = server();
    (await attachOnce(s.socketPath)).close();
    await untilQuiet(s.pid, 200);
    const fd0 = fdCount(s.pid);
    let served = 0;
    const start = Date.now();
    let prev = await attachOnce(s.socketPath);
    for (let i = 0; i < PROBES; i++) {
      await prev.deviceInfo();
      prev.close();
      prev = await attachOnce(s.socketPath);
      served++;
    }
    for (let i = 0; i < SESSIONS; i++) {
      await session(prev);
      prev.close();
      prev = await attachOnce(s.socketPath);
      served++;
    }
    prev.close();
    for (let i = 0; i < KILLS; i++) {
      await killedClient(s.socketPath);
      const c = await attachOnce(s.socketPath);
      await c.deviceInfo();
      c.close();
      served++;
    }
    const ms = Date.now() - start;
    await untilQuiet(s.pid, 200);
    const fd1 = fdCount(s.pid);
    t.diagnostic(
      `${served} of ${PROBES + SESSIONS + KILLS} immediate re-attaches served in ${ms} ms; server fds ${fd0} → ${fd1}`,
    );
    assert.equal(served, PROBES + SESSIONS + KILLS);
    assert.equal(fd1, fd0, 'server fd count grew');
    assert.equal(s.exit, null, 'server still running');
  });

  it('a second client while a live one is attached is answered EBUSY and closed; the first keeps working', async () => {
    const s = server();
    const first = await attachOnce(s.socketPath);
    const start = Date.now();
    const second = new VfioUserClient(await connectUnix(s.socketPath), {
      closeFd,
      timeoutMs: 8000,
    });
    await assert.rejects(second.version(), (e: Error) => {
      assert.ok(e instanceof DeviceBusyError, `${e}`);
      assert.match(e.message, /device in use by another VMM/);
      return true;
    });
    const waited = Date.now() - start;
    assert.ok(waited >= 1000, `refused after ${waited} ms, before the attach wait`);
    // The raw reply: a header-only error reply with errno EBUSY, then the server hangs up.
    const raw = await RawPeer.connect(s.socketPath);
    raw.send(encodeVersion(0x1234, 0, 0, QEMU_CAPABILITIES));
    const r = await raw.reply(0x1234, 8000);
    assert.ok(typeof r === 'object', `no reply: ${r}`);
    assert.ok(isProperErrorReply(r.reply.header));
    assert.equal(r.reply.header.error, Errno.EBUSY);
    assert.notEqual(await raw.hangup(5000), 'timeout', 'the refused client was not closed');
    assert.equal((await first.deviceInfo()).numIrqs, 5);
    first.close();
    second.close();
    const third = await attachOnce(s.socketPath);
    assert.equal((await third.deviceInfo()).numIrqs, 5);
    third.close();
  });
});
