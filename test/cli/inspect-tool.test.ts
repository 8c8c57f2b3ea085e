/**
 * `inspect` as a tool: JSON carries config space as one hex string, an absent region (VGA)
 * is shown absent rather than as an error, `profiles --json` lists the profiles, and
 * `inspect --hex` is `lspci -xxxx` output that Debian's lspci (pciutils) decodes with
 * `-F FILE -vvv` to the same capabilities and BARs inspect reports (skipped, visibly, when
 * lspci is not installed).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Served, serve } from '../e2e/helpers.js';
import { runCliAsync } from '../lifecycle/helpers.js';

/** The CLI, run without blocking (the server runs in this process). */
const cli = (args: string[]) => runCliAsync(args);

const caps = (text: string) => [...text.matchAll(/Capabilities: \[([0-9a-f]+)/g)].map((m) => m[1]);
const bars = (text: string) =>
  [...text.matchAll(/Region (\d): Memory[^(]*\(64-bit, prefetchable\)/g)].map((m) => m[1]);

describe('inspect as a tool', () => {
  let s: Served;
  before(async () => {
    s = await serve();
  });
  after(async () => {
    await s.stop();
  });

  it('--json has config space as a hex string and VGA as absent, not an error', async () => {
    const r = await cli(['inspect', '--json', s.socketPath]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(typeof j.config, 'string');
    assert.equal(j.config.length, 4096 * 2);
    assert.equal(j.config.slice(0, 8), 'de104223', 'vendor 10de device 2342, little-endian');
    const vga = j.regions.find((x: { name: string }) => x.name === 'VGA');
    assert.equal(vga.absent, true);
    assert.equal(vga.error, undefined);
    const text = await cli(['inspect', s.socketPath]);
    assert.match(text.stdout, /region 8 VGA: absent/);
    assert.doesNotMatch(text.stdout, /error/);
  });

  it('profiles --json lists every profile with its ids and memory size', async () => {
    const r = await cli(['profiles', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { name: string; default: boolean; vendorId: string }[];
    assert.ok(list.length >= 2);
    assert.equal(list.filter((p) => p.default).length, 1);
    assert.ok(list.every((p) => p.vendorId === '0x10de'));
  });

  it('--hex decodes with lspci -F to the capabilities and BARs inspect reports', async (t) => {
    if (spawnSync('sh', ['-c', 'command -v lspci']).status !== 0) {
      t.skip('lspci not installed (Debian: apt-get install pciutils)');
      return;
    }
    const hex = await cli(['inspect', '--hex', s.socketPath]);
    assert.equal(hex.code, 0, hex.stderr);
    assert.match(hex.stdout, /^00:00\.0 /);
    const file = join(s.dir, 'config.txt');
    writeFileSync(file, hex.stdout);
    const decoded = spawnSync('lspci', ['-F', file, '-vvv'], { encoding: 'utf8' });
    assert.equal(decoded.status, 0, decoded.stderr);
    assert.match(decoded.stdout, /NVIDIA Corporation Device 2342/);
    const text = (await cli(['inspect', s.socketPath])).stdout;
    assert.deepEqual(caps(decoded.stdout), caps(text));
    assert.ok(caps(text).length >= 10, 'standard and extended capabilities');
    assert.deepEqual(bars(decoded.stdout), bars(text));
    assert.deepEqual(bars(text), ['0', '2', '4']);
  });
});
