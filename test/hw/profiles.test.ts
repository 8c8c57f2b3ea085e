import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listProfiles, PROFILES, parseProfileName } from '../../src/hw/profiles.js';

describe('profiles', () => {
  it('parses known names case-insensitively and lists the valid ones on error', () => {
    assert.equal(parseProfileName('GB300'), 'gb300');
    assert.throws(() => parseProfileName('h100'), /known: gh200, gh200-144g/);
  });

  it('lists every profile once with gh200 as the default', () => {
    const l = listProfiles();
    assert.equal(
      l
        .filter((p) => p.isDefault)
        .map((p) => p.name)
        .join(),
      'gh200',
    );
    assert.equal(new Set(l.map((p) => p.name)).size, l.length);
  });

  it('Hopper parts have the MIG bug and Blackwell parts do not', () => {
    assert.equal(PROFILES.gh200.migHwBug, true);
    assert.equal(PROFILES['gh200-144g'].migHwBug, true);
    assert.equal(PROFILES.gb200.migHwBug, false);
    assert.equal(PROFILES.gb300.migHwBug, false);
  });

  it('device ids match the driver table (nvgrace_gpu_vfio_pci_table), blackwell-next aside', () => {
    assert.deepEqual(
      Object.values(PROFILES)
        .filter((p) => p.name !== 'blackwell-next')
        .map((p) => p.deviceId),
      [0x2342, 0x2348, 0x2345, 0x2941, 0x31c2],
    );
  });

  it('blackwell-next (not in the 7.2 table: bound by driver_override) is the only part with a CXL DVSEC', () => {
    assert.equal(PROFILES['blackwell-next'].deviceId, 0x3041);
    assert.deepEqual(
      Object.values(PROFILES)
        .filter((p) => p.cxlDvsec)
        .map((p) => p.name),
      ['blackwell-next'],
    );
  });
});
