import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSize, parseSize, SizeError } from '../../src/cli/size.js';

describe('parseSize', () => {
  it('reads plain integers and 0x-hex as bytes', () => {
    assert.equal(parseSize('4096'), 4096);
    assert.equal(parseSize('0x18_0000_0000'.replaceAll('_', '')), 0x18_0000_0000);
  });
  it('reads KiB/MiB/GiB/TiB as binary units', () => {
    assert.equal(parseSize('96GiB'), 96 * 2 ** 30);
    assert.equal(parseSize('512GiB'), 512 * 2 ** 30);
    assert.equal(parseSize('1TiB'), 2 ** 40);
    assert.equal(parseSize('64 KiB'), 65536);
  });
  it('reads KB/MB/GB/TB as decimal units', () => {
    assert.equal(parseSize('96GB'), 96e9);
    assert.equal(parseSize('186GB'), 186e9);
  });
  it("reads QEMU's one-letter suffixes (96G, 512M, 1T, 4k) as binary units", () => {
    assert.equal(parseSize('96G'), 96 * 2 ** 30);
    assert.equal(parseSize('512M'), 512 * 2 ** 20);
    assert.equal(parseSize('1T'), 2 ** 40);
    assert.equal(parseSize('4k'), 4096);
    assert.equal(parseSize('1.5g'), 1.5 * 2 ** 30);
  });
  it('accepts a fraction with a unit when the result is whole bytes', () => {
    assert.equal(parseSize('1.5GiB'), 1.5 * 2 ** 30);
  });
  it('refuses unknown units, fractional bytes and garbage with a clear message', () => {
    assert.throws(() => parseSize('96X'), SizeError);
    assert.throws(() => parseSize('96GG'), SizeError);
    assert.throws(() => parseSize('1.5'), /whole number/);
    assert.throws(() => parseSize('-1'), SizeError);
    assert.throws(() => parseSize(''), SizeError);
    assert.throws(() => parseSize('0.1B'), SizeError);
  });
});

describe('formatSize', () => {
  it('prints binary units with two decimals when not whole', () => {
    assert.equal(formatSize(2 ** 30), '1 GiB');
    assert.equal(formatSize(0x5a0bc000), '1.41 GiB');
    assert.equal(formatSize(100), '100 B');
  });
});
