import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../src/hw/clock.js';
import { createCard } from '../../src/hw/create-card.js';
import { PROFILE_NAMES } from '../../src/hw/profiles.js';
import { listCaps, listExtCaps } from '../../src/pci/walk.js';

const access = fc
  .record({
    size: fc.constantFrom(1 as const, 2 as const, 4 as const),
    slot: fc.nat({ max: 1023 }),
    value: fc.nat({ max: 0xffffffff }),
  })
  .map(({ size, slot, value }) => ({ size, offset: (slot * 4) % (4096 - size + 1), value }))
  .map((a) => ({ ...a, offset: a.offset - (a.offset % a.size) }));

describe('config space under arbitrary writes', () => {
  it('IDs, class, BAR type bits and both capability chains never change', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PROFILE_NAMES),
        fc.array(access, { maxLength: 64 }),
        (p, ws) => {
          const c = createCard({ profile: p, clock: new ManualClock(), memSize: 2 ** 31 });
          const read = c.cfgRead.bind(c);
          const ids = c.cfgRead(0, 4);
          const cls = c.cfgRead(8, 4);
          const caps = listCaps(read);
          const ext = listExtCaps(read);
          for (const w of ws) c.cfgWrite(w.offset, w.size, w.value);
          assert.equal(c.cfgRead(0, 4), ids);
          assert.equal(c.cfgRead(8, 4), cls);
          for (const i of [0, 2, 4]) assert.equal(c.cfgRead(0x10 + 4 * i, 4) & 0xf, 0xc);
          assert.deepEqual(listCaps(read), caps);
          assert.deepEqual(listExtCaps(read), ext);
        },
      ),
      { numRuns: 200 },
    );
  });
});
