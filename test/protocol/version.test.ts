import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  capabilitiesJson,
  ProtocolError,
  parseCapabilities,
} from '../../src/vfio-user/protocol/index.js';

const QEMU =
  '{"capabilities": {"migration": {"pgsize": 4096, "max_bitmap_size": 268435456}, "max_msg_fds": 16, ' +
  '"max_data_xfer_size": 1048576, "pgsizes": 4096, "max_dma_maps": 65535, "write_multiple": true}}';

describe('capability parser', () => {
  it('reads QEMU 10.1’s capabilities', () => {
    assert.deepEqual(parseCapabilities(QEMU), {
      maxMsgFds: 16,
      maxDataXferSize: 1048576,
      maxDmaMaps: 65535,
      pgsizes: 4096,
      writeMultiple: true,
      migration: { pgsize: 4096, maxBitmapSize: 268435456 },
    });
  });
  it('keeps unknown keys by name', () => {
    assert.deepEqual(parseCapabilities('{"capabilities":{"shiny":1}}').unknownKeys, ['shiny']);
  });
  for (const [json, message] of [
    ['nope', /does not parse/],
    ['null', /not an object/],
    ['{"capabilities":[]}', /"capabilities" is not an object/],
    ['{"capabilities":{"max_msg_fds":-1}}', /max_msg_fds = -1 is outside \[0, 1024\]/],
    ['{"capabilities":{"max_msg_fds":1.5}}', /max_msg_fds must be an integer/],
    ['{"capabilities":{"max_data_xfer_size":0}}', /max_data_xfer_size = 0 is outside/],
    ['{"capabilities":{"pgsizes":0}}', /pgsizes = 0 is outside/],
    ['{"capabilities":{"pgsizes":4097}}', /pgsizes = 4097 has bits below 4096 set/],
    ['{"capabilities":{"write_multiple":"yes"}}', /write_multiple must be a boolean/],
    ['{"capabilities":{"twin_socket":true}}', /twin_socket is not an object/],
    [
      '{"capabilities":{"migration":{"pgsize":100}}}',
      /migration.pgsize = 100 is not a multiple of 4096/,
    ],
  ] as const) {
    it(`rejects ${json} naming the fault`, () => {
      assert.throws(
        () => parseCapabilities(json),
        (e: unknown) =>
          e instanceof ProtocolError &&
          e.code === 'E_CAPABILITIES' &&
          e.errno === 22 &&
          message.test(e.message),
      );
    });
  }
  it('writes compact JSON that parses back to the same values', () => {
    const caps = {
      maxMsgFds: 16,
      maxDataXferSize: 1 << 20,
      pgsizes: 4096,
      maxDmaMaps: 65535,
      writeMultiple: true,
    };
    const json = capabilitiesJson(caps);
    assert.equal(
      json,
      '{"capabilities":{"max_msg_fds":16,"max_data_xfer_size":1048576,"pgsizes":4096,"max_dma_maps":65535,"write_multiple":true}}',
    );
    assert.deepEqual(parseCapabilities(json), caps);
  });
});
