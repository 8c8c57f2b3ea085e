/**
 * `inspect` reports what the server emulates, read from the BAR0 emulator identity block
 * (not on real hardware) over a real socket: profile, kernel band, policies and memory size
 * as served, plus the usemem/resmem sizes the regions carry; a card off the bus shows no
 * block, so the identity is unknown (null) and inspect still succeeds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readIdentity } from '../../src/cli/inspect-identity.js';
import type { VfioUserClient } from '../../src/vfio-user/client/client.js';
import { Errno, RemoteError } from '../../src/vfio-user/protocol/index.js';
import { type Served, serve } from '../e2e/helpers.js';
import { runCliAsync } from '../lifecycle/helpers.js';

const GIB = 1024 ** 3;

/** The CLI, run without blocking (the server runs in this process). */
const cli = (args: string[]) => runCliAsync(args);

describe('inspect reports the served identity', () => {
  let s: Served;
  before(async () => {
    s = await serve({ profile: 'gb300', kernel: '6.14', memSize: 200 * GIB });
  });
  after(async () => {
    await s.stop();
  });

  it('gb300 --kernel 6.14 --mem-size 200G: --json has that profile, band and memory size', async () => {
    const r = await cli(['inspect', '--json', s.socketPath]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(j.identity, {
      version: 1,
      profile: 'gb300',
      kernel: '6.14',
      policies: { mse: 'ignore', layout: 'bars' },
      memSize: `0x${(200 * GIB).toString(16)}`,
    });
    assert.deepEqual(j.served, { usemem: `0x${(200 * GIB).toString(16)}`, resmem: null });
    const text = await cli(['inspect', s.socketPath]);
    assert.match(
      text.stdout,
      /emulator identity: profile gb300, kernel band 6\.14, memory 200 GiB, mse ignore, layout bars; served usemem 200 GiB, resmem none/,
    );
  });

  it('a card off the bus shows no identity block: identity null, inspect still exits 0', async () => {
    const card = s.server.gpus.gpus[0]!.card;
    card.faults.setOffBus(true);
    try {
      const r = await cli(['inspect', '--json', s.socketPath]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).identity, null);
      const text = await cli(['inspect', s.socketPath]);
      assert.match(text.stdout, /emulator identity: unknown/);
    } finally {
      card.faults.setOffBus(false);
    }
  });
});

describe('inspect reports a Hopper served as a vendor region', () => {
  let s: Served;
  before(async () => {
    s = await serve({ profile: 'gh200', kernel: '6.19', mse: 'honour', layout: 'vendor-region' });
  });
  after(async () => {
    await s.stop();
  });

  it('the policies and both memory parts come back as served', async () => {
    const r = await cli(['inspect', '--json', s.socketPath]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.identity.profile, 'gh200');
    assert.equal(j.identity.kernel, '6.19');
    assert.deepEqual(j.identity.policies, { mse: 'honour', layout: 'vendor-region' });
    assert.ok(j.served.resmem !== null, 'Hopper carves resmem');
    assert.equal(
      BigInt(j.served.usemem) + BigInt(j.served.resmem),
      BigInt(j.identity.memSize),
      'usemem + resmem = the whole device memory',
    );
  });
});

describe('readIdentity against answers other than the block', () => {
  const BAR0 = 16n * 1024n * 1024n;
  const REGION_READ = 9;
  const client = (regionRead: () => Promise<Uint8Array>) =>
    ({ regionRead }) as unknown as VfioUserClient;

  it('an EIO reply to the read means unknown (null), not an error', async () => {
    const c = client(() => Promise.reject(new RemoteError(REGION_READ, Errno.EIO)));
    assert.equal(await readIdentity(c, BAR0), null);
  });

  it('a lost connection is still an error', async () => {
    const c = client(() => Promise.reject(new Error('connection closed')));
    await assert.rejects(readIdentity(c, BAR0), /connection closed/);
  });

  it('a BAR0 too small to hold the block is not read at all', async () => {
    const c = client(() => Promise.reject(new Error('must not be called')));
    assert.equal(await readIdentity(c, 0x1000n), null);
  });
});
