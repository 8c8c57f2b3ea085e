/**
 * Bulk region I/O over a real socket: maximal (1 MiB) reads and writes, pipelined so replies
 * queue in the server's output. Pins that a reused reply buffer never overwrites a reply still
 * waiting to be sent, that a read served in place from device memory answers with the memory
 * as it was when the read was handled (not when its reply left), and that write data sent as
 * its own part arrives whole.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RegionInfoResult } from '../../src/vfio-user/client/client.js';
import { closeFd, type Served, serve, sparseAreas } from './helpers.js';

const MiB = 2 ** 20;
const BAR4 = 4;

/** 1 MiB whose every byte depends on the block number and the position. */
function pattern(block: number): Uint8Array {
  const b = new Uint8Array(MiB);
  for (let i = 0; i < MiB; i++) b[i] = (i * 7 + block * 31 + (i >>> 12)) & 0xff;
  return b;
}

/** End of the real memory behind a fake BAR: its one sparse-mmap area. */
function memlength(r: RegionInfoResult): number {
  const [area] = sparseAreas(r);
  assert.ok(area);
  return Number(area.offset + area.size);
}

function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const at = actual.findIndex((v, i) => v !== expected[i]);
  assert.equal(at, -1, `${what}: first difference at byte ${at}`);
}

describe('bulk REGION_READ / REGION_WRITE of device memory', () => {
  let s: Served;
  before(async () => {
    s = await serve();
  });
  after(async () => {
    await s.stop();
  });

  it('pipelined 1 MiB reads each return their own block while replies queue', async () => {
    const c = await s.attach();
    const blocks = Array.from({ length: 12 }, (_, k) => pattern(k));
    for (const [k, b] of blocks.entries()) assert.equal(await c.regionWrite(BAR4, k * MiB, b), MiB);
    // Twelve 1 MiB replies exceed the socket buffer: later ones wait in the server's queue
    // while earlier ones are still unread.
    const reads = blocks.map((_, k) => c.regionRead(BAR4, k * MiB, MiB));
    const got = await Promise.all(reads);
    for (const [k, b] of blocks.entries()) sameBytes(got[k]!, b, `block ${k}`);
    // One at a time (the reply buffer reused on every read) gives the same bytes.
    for (const k of [3, 0, 11])
      sameBytes(await c.regionRead(BAR4, k * MiB, MiB), blocks[k]!, `re-read ${k}`);
    c.close();
    await s.server.endpoint.idle();
  });

  it('a read answered while the socket is full returns memory as it was, not as later writes left it', async () => {
    const c = await s.attach();
    const old = pattern(40);
    const fresh = pattern(41);
    await c.regionWrite(BAR4, 40 * MiB, old);
    // Fill the socket with replies, then read the block and overwrite it right behind the
    // read: the server handles the read first, so it must answer with the old bytes even
    // though that reply leaves the server only after the write has been applied.
    const filler = Array.from({ length: 10 }, (_, k) => c.regionRead(BAR4, k * MiB, MiB));
    const read = c.regionRead(BAR4, 40 * MiB, MiB);
    const write = c.regionWrite(BAR4, 40 * MiB, fresh);
    await Promise.all(filler);
    sameBytes(await read, old, 'read handled before the write');
    assert.equal(await write, MiB);
    sameBytes(await c.regionRead(BAR4, 40 * MiB, MiB), fresh, 'read after the write');
    c.close();
    await s.server.endpoint.idle();
  });

  it('1 MiB writes one after another (the reader reusing its store) and pipelined each land whole', async () => {
    const c = await s.attach();
    for (const k of [50, 51, 52]) assert.equal(await c.regionWrite(BAR4, k * MiB, pattern(k)), MiB);
    const burst = [53, 54, 55, 56].map((k) => c.regionWrite(BAR4, k * MiB, pattern(k)));
    for (const n of await Promise.all(burst)) assert.equal(n, MiB);
    for (const k of [50, 51, 52, 53, 54, 55, 56])
      sameBytes(await c.regionRead(BAR4, k * MiB, MiB), pattern(k), `block ${k}`);
    c.close();
    await s.server.endpoint.idle();
  });

  it('a 1 MiB read that ends in the padding gets memory, then 0xFF, and only what was asked', async () => {
    const c = await s.attach();
    const info = await c.regionInfo(BAR4);
    if (info.fd !== null) closeFd(info.fd);
    const memEnd = memlength(info);
    assert.ok(Number(info.size) >= memEnd + MiB, 'the BAR has padding after its memory');
    const start = memEnd - MiB / 2;
    const head = pattern(99).subarray(0, MiB / 2);
    await c.regionWrite(BAR4, start, head);
    const got = await c.regionRead(BAR4, start, MiB);
    sameBytes(got.subarray(0, MiB / 2), head, 'memory part');
    assert.ok(
      got.subarray(MiB / 2).every((v) => v === 0xff),
      'padding part is all-ones',
    );
    c.close();
    await s.server.endpoint.idle();
  });
});
