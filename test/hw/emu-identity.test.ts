/**
 * The emulator identity block (BAR0 + 0xFFF100, not on real hardware): every profile × band
 * reads back its magic, version, profile, band, policies and memory size through the card's
 * BAR0 path; off the bus it reads all-ones (no magic); writes do not change it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createCard,
  decodeIdentity,
  EMU_IDENTITY,
  IDENTITY_MAGIC,
  IDENTITY_SIZE,
  IDENTITY_VERSION,
  IdentityReg,
  ManualClock,
  PROFILE_NAMES,
  profileCode,
  profileFromCode,
} from '../../src/hw/index.js';
import { bandCode, bandFromCode, KERNEL_BANDS } from '../../src/nvgrace/kernel-bands.js';
import {
  EXPOSURE_LAYOUTS,
  MSE_POLICIES,
  policiesFromCode,
  policyCode,
} from '../../src/nvgrace/policies.js';

const GIB = 1024 ** 3;
const PCI_COMMAND = 0x04;
const PCI_COMMAND_MEMORY = 0x2;

function decodingCard(opts: Parameters<typeof createCard>[0]) {
  const card = createCard(opts);
  card.cfgWrite(PCI_COMMAND, 2, card.cfgRead(PCI_COMMAND, 2) | PCI_COMMAND_MEMORY);
  return card;
}

function word(card: ReturnType<typeof createCard>, reg: number): number {
  const b = new Uint8Array(4);
  card.barRead(0, EMU_IDENTITY + reg, b);
  return new DataView(b.buffer).getUint32(0, true);
}

describe('emulator identity block', () => {
  for (const profile of PROFILE_NAMES) {
    for (const band of KERNEL_BANDS) {
      it(`${profile} on band ${band}: 4-byte reads show NVGU, v1, its codes and 12 GiB`, () => {
        const card = decodingCard({
          profile,
          memSize: 12 * GIB,
          clock: new ManualClock(),
          identity: {
            bandCode: bandCode(band),
            policyCode: policyCode({ mse: 'ignore', layout: 'bars' }),
          },
        });
        assert.equal(word(card, IdentityReg.MAGIC), IDENTITY_MAGIC);
        assert.equal(word(card, IdentityReg.VERSION), IDENTITY_VERSION);
        assert.equal(profileFromCode(word(card, IdentityReg.PROFILE)), profile);
        assert.equal(bandFromCode(word(card, IdentityReg.KERNEL_BAND)), band);
        assert.deepEqual(policiesFromCode(word(card, IdentityReg.POLICIES)), {
          mse: 'ignore',
          layout: 'bars',
        });
        assert.equal(word(card, IdentityReg.MEM_SIZE_LO), 0);
        assert.equal(word(card, IdentityReg.MEM_SIZE_HI), 3, '12 GiB = 3 << 32');
      });
    }
  }

  it('the magic word is the bytes N V G U', () => {
    const card = decodingCard({ profile: 'gh200', clock: new ManualClock() });
    const b = new Uint8Array(4);
    card.barRead(0, EMU_IDENTITY, b);
    assert.equal(new TextDecoder().decode(b), 'NVGU');
  });

  it('every policy pair round-trips through its code; 0 is "not told"', () => {
    for (const mse of MSE_POLICIES) {
      for (const layout of EXPOSURE_LAYOUTS) {
        assert.deepEqual(policiesFromCode(policyCode({ mse, layout })), { mse, layout });
      }
    }
    assert.equal(policiesFromCode(0), null);
    assert.equal(bandFromCode(0), null);
    assert.equal(bandFromCode(KERNEL_BANDS.length + 1), null, 'a newer server’s band');
    assert.equal(profileFromCode(0), null);
    assert.equal(profileCode('gh200'), 1);
  });

  it('a card built without a tag reports band and policies as not told', () => {
    const card = decodingCard({ profile: 'gb200', clock: new ManualClock() });
    assert.equal(word(card, IdentityReg.KERNEL_BAND), 0);
    assert.equal(word(card, IdentityReg.POLICIES), 0);
    assert.equal(profileFromCode(word(card, IdentityReg.PROFILE)), 'gb200');
  });

  it('one read of the whole block decodes; writes to it are dropped', () => {
    const card = decodingCard({ profile: 'gb300', memSize: 200 * GIB, clock: new ManualClock() });
    card.barWrite(0, EMU_IDENTITY, new Uint8Array(IDENTITY_SIZE).fill(0x5a));
    const b = new Uint8Array(IDENTITY_SIZE);
    card.barRead(0, EMU_IDENTITY, b);
    const f = decodeIdentity(b);
    assert.ok(f);
    assert.equal(f.memSize, BigInt(200 * GIB));
    assert.equal(profileFromCode(f.profileCode), 'gb300');
    assert.ok(
      b.subarray(0x20).every((x) => x === 0),
      'reserved words read 0',
    );
  });

  it('off the bus (and with Memory Space off) the block reads all-ones: no magic', () => {
    const card = decodingCard({ profile: 'gh200', clock: new ManualClock() });
    card.faults.setOffBus(true);
    assert.equal(word(card, IdentityReg.MAGIC), 0xffffffff);
    const b = new Uint8Array(0x20);
    card.barRead(0, EMU_IDENTITY, b);
    assert.equal(decodeIdentity(b), null);
    card.faults.setOffBus(false);
    card.cfgWrite(PCI_COMMAND, 2, card.cfgRead(PCI_COMMAND, 2) & ~PCI_COMMAND_MEMORY);
    assert.equal(word(card, IdentityReg.MAGIC), 0xffffffff);
  });
});
