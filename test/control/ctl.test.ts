/**
 * `nvgrace-user ctl` against a running server: results as JSON, error replies and exit
 * codes, `--wait-event` after a request, the `events` stream; and the control plane over
 * several GPUs (`gpu` selects one, events name theirs).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseParams, parseValue, runCtl } from '../../src/cli/ctl.js';
import { createLogger } from '../../src/cli/log.js';
import { startServer } from '../../src/cli/serve.js';
import { ControlClient } from '../../src/control/client.js';
import type { ControlEvent } from '../../src/control/gpu-unit.js';
import { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { connectUnix } from '../../src/vfio-user/transport/index.js';
import { closeFd, until } from '../e2e/helpers.js';
import { type ControlServed, serveWithControl } from './helpers.js';

async function ctl(
  socket: string,
  method: string,
  args: string[] = [],
  opts: { waitEvent?: string; timeoutMs?: number } = {},
) {
  let out = '';
  let err = '';
  const code = await runCtl(
    socket,
    method,
    args,
    { waitEvent: opts.waitEvent, timeoutMs: opts.timeoutMs ?? 5000 },
    (s) => {
      out += s;
    },
    (s) => {
      err += s;
    },
  );
  return {
    code,
    out,
    err,
    lines: out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
  };
}

describe('ctl key=value parsing', () => {
  it('numbers (decimal, 0x-hex), booleans, null, JSON and strings', () => {
    assert.deepEqual(
      parseParams([
        'index=2',
        'offset=0x1000',
        'on=true',
        'x=null',
        'kind=link-down',
        'filter={"regions":[7]}',
      ]),
      {
        index: 2,
        offset: 0x1000,
        on: true,
        x: null,
        kind: 'link-down',
        filter: { regions: [7] },
      },
    );
    assert.equal(parseValue('-5'), -5);
    assert.throws(() => parseParams(['novalue']), /key=value/);
    assert.throws(() => parseValue('{bad'), /JSON/);
  });
});

describe('ctl against a served GPU', () => {
  let s: ControlServed;
  before(async () => {
    s = await serveWithControl({ kernel: '6.14' });
  });
  after(async () => {
    await s.stop();
  });

  it('prints the result as JSON and exits 0', async () => {
    const r = await ctl(s.controlPath, 'get_status');
    assert.equal(r.code, 0);
    assert.equal(r.lines[0].profile, 'gh200');
  });

  it('an error reply is printed as {"error":…} and exits 1', async () => {
    const r = await ctl(s.controlPath, 'no_such_method');
    assert.equal(r.code, 1);
    assert.equal(r.lines[0].error.code, -32601);
    const bad = await ctl(s.controlPath, 'inject_fault', ['kind=poison', 'offset=0x10']);
    assert.equal(bad.lines[0].error.code, -32602);
  });

  it('--wait-event after a request prints the result, then the event', async () => {
    const r = await ctl(s.controlPath, 'reset_device', [], { waitEvent: 'readiness-reached' });
    assert.equal(r.code, 0);
    assert.equal(typeof r.lines[0].resets, 'number');
    assert.equal(r.lines[1].type, 'readiness-reached');
  });

  it('--wait-event times out with exit 1 and E_TIMEOUT', async () => {
    const r = await ctl(s.controlPath, 'get_status', [], {
      waitEvent: 'never-happens',
      timeoutMs: 200,
    });
    assert.equal(r.code, 1);
    assert.match(r.err, /E_TIMEOUT/);
  });

  it('events --wait-event waits for a VMM to hang up', async () => {
    const c = await s.attach();
    const waiting = ctl(s.controlPath, 'events', [], { waitEvent: 'client-detached' });
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    const r = await waiting;
    assert.equal(r.code, 0);
    assert.equal(r.lines.at(-1).type, 'client-detached');
  });

  it('no server at the path is a usage-level failure (E_CONNECT)', async () => {
    await assert.rejects(
      ctl(join(s.dir, 'nope.sock'), 'get_status'),
      /E_CONNECT|no control socket/,
    );
  });
});

describe('control plane over several GPUs', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nvgrace-ctl-multi-'));
    server = await startServer(
      {
        profile: 'gh200',
        kernel: '6.14',
        gpus: 2,
        socketDir: join(dir, 'gpus'),
        controlSocket: join(dir, 'ctl.sock'),
      },
      createLogger('silent'),
      () => {},
    );
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gpu selects the GPU: a fault on GPU 1 leaves GPU 0 alone; events name their GPU', async () => {
    const c = await ControlClient.connect(join(dir, 'ctl.sock'));
    const events: ControlEvent[] = [];
    c.onNotification((n) => events.push(n.params as ControlEvent));
    assert.equal(((await c.call('get_status', { gpu: 1 })) as { gpus: number }).gpus, 2);
    await c.call('inject_fault', { gpu: 1, kind: 'link-down' });
    assert.deepEqual(
      ((await c.call('get_status', { gpu: 0 })) as { faults: unknown[] }).faults,
      [],
    );
    assert.equal(
      ((await c.call('get_status', { gpu: 1 })) as { faults: unknown[] }).faults.length,
      1,
    );
    const vmm = new VfioUserClient(await connectUnix(join(dir, 'gpus', 'gpu1.sock')), {
      closeFd,
      timeoutMs: 5000,
    });
    await vmm.version();
    await until(() => events.some((e) => e.type === 'client-attached'), 'attach event');
    assert.equal(events.find((e) => e.type === 'client-attached')!.gpu, 1);
    vmm.close();
    await assert.rejects(
      c.call('get_status', { gpu: 2 }),
      (e: { code?: number }) => e.code === -32602,
    );
    c.close();
  });
});
