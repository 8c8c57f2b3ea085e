import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { q35PhysBits, qemuCommand, shellJoin } from '../../src/cli/qemu-cmdline.js';

const GiB = 2 ** 30;

describe('qemuCommand', () => {
  it('attaches the socket as vfio-user-pci in JSON form behind a root port', () => {
    const { argv } = qemuCommand({
      socketPath: '/tmp/g.sock',
      barSizes: [16 << 20, GiB, 128 * GiB],
    });
    const dev = argv[argv.indexOf('-device', argv.indexOf('-device') + 1) + 1]!;
    assert.deepEqual(JSON.parse(dev).socket, { path: '/tmp/g.sock', type: 'unix' });
    assert.equal(JSON.parse(dev).driver, 'vfio-user-pci');
  });
  it('backs guest RAM with a shared memfd so DMA maps carry fds', () => {
    const { argv } = qemuCommand({ socketPath: '/s', barSizes: [GiB] });
    assert.ok(argv.includes('memory-backend-memfd,id=mem,size=4G,share=on'));
    assert.ok(argv.includes('q35,memory-backend=mem'));
  });
  it('sizes the 64-bit window and phys-bits for a GH200 (128 GiB + 1 GiB BARs)', () => {
    const c = qemuCommand({ socketPath: '/s', barSizes: [16 << 20, GiB, 128 * GiB] });
    assert.equal(c.hole64, 512 * GiB);
    assert.equal(c.physBits, 40);
    assert.ok(c.argv.includes('q35-pcihost.pci-hole64-size=512G'));
  });
  it('grows window and phys-bits together for a 512 GiB BAR', () => {
    const c = qemuCommand({ socketPath: '/s', barSizes: [16 << 20, 256 << 20, 512 * GiB] });
    assert.equal(c.hole64, 2 ** 41);
    assert.equal(c.physBits, 42);
    assert.ok(c.argv.includes('q35-pcihost.pci-hole64-size=2T'));
  });
});

describe('q35PhysBits', () => {
  it('a 256 GiB BAR (gh200-144g) with 4 GiB of RAM needs 42 bits: RAM above 4 GiB moves to 1 TiB on AMD-vendor CPUs', () => {
    const c = qemuCommand({ socketPath: '/s', barSizes: [16 << 20, GiB, 256 * GiB] });
    assert.equal(c.hole64, 2 ** 40);
    assert.equal(c.physBits, 42, 'QEMU 10.2 refuses 41: "phys-bits too low"');
  });
  it('with all RAM below 4 GiB nothing moves: a 1 TiB window at 4 GiB needs 41 bits', () => {
    assert.equal(q35PhysBits(2 * GiB, 2 ** 40), 41);
    assert.equal(q35PhysBits(4 * GiB, 2 ** 40), 42);
  });
});

describe('shellJoin', () => {
  it('quotes JSON arguments for a POSIX shell', () => {
    const text = shellJoin(['qemu', '-device', '{"a":"b c"}']);
    assert.equal(text, `qemu \\\n  -device '{"a":"b c"}'`);
  });
});
