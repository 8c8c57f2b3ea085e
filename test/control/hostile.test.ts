/**
 * Malformed and hostile control streams over a real socket: bad JSON, unknown methods,
 * non-requests, huge lines, binary garbage, a client that never reads. Each gets its error
 * reply (or is dropped, for the one that never reads) while the connection — or at least
 * the server, other control clients and the VMM session — keeps working.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_LINE } from '../../src/control/server.js';
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { until } from '../e2e/helpers.js';
import { type ControlServed, serveWithControl } from './helpers.js';

/** A raw line client: write bytes, collect reply lines as parsed JSON. */
async function raw(path: string): Promise<{ s: Socket; replies: any[] }> {
  const s = connect(path);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  const replies: any[] = [];
  let buf = '';
  s.on('data', (d) => {
    buf += d.toString('utf8');
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      replies.push(JSON.parse(line));
      nl = buf.indexOf('\n');
    }
  });
  s.on('error', () => {});
  return { s, replies };
}

const req = (id: number, method: string, params?: unknown) =>
  `${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) })}\n`;

describe('control socket: malformed and hostile streams', () => {
  let s: ControlServed;
  let vmm: VfioUserClient;
  before(async () => {
    s = await serveWithControl({ kernel: '6.14' });
    vmm = await s.attach();
  });
  after(async () => {
    await s.stop();
  });

  it('malformed JSON → -32700, unknown method → -32601, non-request → -32600, bad params → -32602; the connection keeps answering', async () => {
    const { s: sock, replies } = await raw(s.controlPath);
    sock.write('{"jsonrpc":"2.0","id":1,"method":\n');
    sock.write(req(2, 'no_such_method'));
    sock.write('{"id":3}\n');
    sock.write('[1,2]\n');
    sock.write(req(4, 'raise_irq', { index: 'x' }));
    sock.write(req(5, 'get_status'));
    await until(() => replies.length >= 6, 'six replies');
    assert.equal(replies[0].error.code, -32700);
    assert.equal(replies[0].id, null);
    assert.deepEqual([replies[1].id, replies[1].error.code], [2, -32601]);
    assert.equal(replies[2].error.code, -32600);
    assert.ok(Array.isArray(replies[3]) && replies[3].every((r: any) => r.error.code === -32600));
    assert.deepEqual([replies[4].id, replies[4].error.code], [4, -32602]);
    assert.equal(replies[5].id, 5);
    assert.equal(replies[5].result.attached, true);
    sock.destroy();
  });

  it('a line longer than the bound is one -32700 reply, discarded up to its newline; the next line is served', async () => {
    const { s: sock, replies } = await raw(s.controlPath);
    const huge = Buffer.alloc(MAX_LINE * 8, 0x61);
    // Sent in pieces: the server must not buffer it whole.
    for (let i = 0; i < 8; i++) sock.write(huge.subarray(i * MAX_LINE, (i + 1) * MAX_LINE));
    sock.write('\n');
    sock.write(req(7, 'get_status'));
    await until(() => replies.length >= 2, 'two replies');
    assert.equal(replies[0].error.code, -32700);
    assert.match(replies[0].error.message, /exceeds/);
    assert.equal(replies[1].id, 7);
    sock.destroy();
  });

  it('binary garbage (NULs, invalid UTF-8, lone CRs) gets parse errors, never a crash', async () => {
    const { s: sock, replies } = await raw(s.controlPath);
    const garbage = Buffer.from([
      0, 0xff, 0xfe, 0x80, 0x0d, 0x7b, 0x0a, 0xc3, 0x28, 0x0a, 0x01, 0x02, 0x0a,
    ]);
    sock.write(garbage);
    sock.write(req(9, 'get_status'));
    await until(() => replies.some((r) => r.id === 9), 'the request after the garbage');
    assert.equal(replies.filter((r) => r.error?.code === -32700).length, 3);
    sock.destroy();
  });

  it('deeply nested JSON in id, params or a batch is refused with a reply, never a crash', async () => {
    const { s: sock, replies } = await raw(s.controlPath);
    const deepObj = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const deepArr = `${'['.repeat(20000)}${']'.repeat(20000)}`;
    sock.write(`{"jsonrpc":"2.0","id":1,"method":"get_status","params":{"gpu":${deepObj}}}\n`);
    sock.write(`{"jsonrpc":"2.0","id":${deepObj},"method":"get_status"}\n`);
    sock.write(`${deepArr}\n`);
    sock.write(
      `{"jsonrpc":"2.0","id":2,"method":"trace_start","params":{"filter":{"commands":${deepArr}}}}\n`,
    );
    sock.write(req(3, 'get_status'));
    await until(() => replies.some((r) => r.id === 3), 'the request after the nested ones');
    assert.equal(replies.length, 5);
    assert.deepEqual(
      replies.slice(0, 4).map((r: any) => r.error.code),
      [-32600, -32600, -32600, -32600],
    );
    sock.destroy();
  });

  it('trace_start into a FIFO nobody reads neither blocks nor crashes the server', async () => {
    const fifo = join(s.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const ctl = await s.control();
    await assert.rejects(
      ctl.client.call('trace_start', { file: fifo }),
      (e: { code?: number }) => e.code === -32000,
    );
    // The server goes on: the VMM session and the control connection answer.
    assert.equal((await vmm.deviceInfo()).numRegions, 9);
    const st = (await ctl.client.call('get_status')) as { trace: { on: boolean } };
    assert.equal(st.trace.on, false);
  });

  it('a client that never reads is dropped once its unread output passes the bound; others and the VMM are unharmed', async () => {
    const other = await s.control();
    const hog = connect(s.controlPath);
    await new Promise<void>((resolve) => hog.once('connect', resolve));
    hog.on('error', () => {});
    hog.pause(); // never reads
    let closed = false;
    hog.on('close', () => {
      closed = true;
    });
    // Batches of status requests: ~100 KiB of replies per line, 24 MiB in all.
    const batch = `${JSON.stringify(
      Array.from({ length: 150 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'get_status' })),
    )}\n`;
    for (let i = 0; i < 240 && !closed; i++) {
      hog.write(batch);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await until(() => closed, 'the never-reading client dropped', 20_000);
    assert.equal(((await other.client.call('get_status')) as any).attached, true);
    assert.equal((await vmm.deviceInfo()).numRegions, 9);
  });

  it('many control clients at once each get their own replies and every event', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => s.control()));
    const results = await Promise.all(clients.map((c) => c.client.call('get_status')));
    assert.ok(results.every((r) => (r as any).attached === true));
    await clients[0]!.client.call('inject_fault', { kind: 'link-down' });
    await Promise.all(clients.map((c) => c.next('fault-injected')));
    await clients[3]!.client.call('clear_faults');
    await Promise.all(clients.map((c) => c.next('faults-cleared')));
  });
});
