/**
 * The Generic Initiator entries of an ACPI SRAT, as the interop tests read them from a
 * guest's /sys/firmware/acpi/tables/SRAT. ACPI 6.3, section 5.2.16.6: type 5, length 32, device
 * handle type at +3 (1 = PCI), proximity domain at +4, the 16-byte device handle at +8:
 * segment (2 bytes), then the BDF as a 16-bit value, bus in bits 15:8 (so byte 3 of the
 * handle, which is what Linux reads) and devfn in bits 7:0.
 *
 * QEMU 10.2 writes the bus in byte 2 and devfn in byte 3: both readings are returned, and
 * callers accept either.
 */
const SRAT_ENTRIES = 48; // 36-byte table header + 12 reserved bytes
const GI_TYPE = 5;
const HANDLE_PCI = 1;

export interface GiEntry {
  node: number;
  segment: number;
  /** Bus and devfn as the ACPI spec (and Linux) read them: bus in handle byte 3. */
  spec: { bus: number; devfn: number };
  /** As QEMU 10.2 writes them: bus in handle byte 2. */
  swapped: { bus: number; devfn: number };
}

export function sratGenericInitiators(srat: Uint8Array): GiEntry[] {
  if (srat.length < SRAT_ENTRIES || String.fromCharCode(...srat.subarray(0, 4)) !== 'SRAT')
    throw new Error('not an SRAT');
  const v = new DataView(srat.buffer, srat.byteOffset, srat.byteLength);
  const out: GiEntry[] = [];
  for (let off = SRAT_ENTRIES; off + 2 <= srat.length; ) {
    const type = srat[off]!;
    const len = srat[off + 1]!;
    if (len < 2 || off + len > srat.length) throw new Error(`bad SRAT entry at ${off}`);
    if (type === GI_TYPE && len >= 32 && srat[off + 3] === HANDLE_PCI) {
      const h = off + 8;
      out.push({
        node: v.getUint32(off + 4, true),
        segment: v.getUint16(h, true),
        spec: { bus: srat[h + 3]!, devfn: srat[h + 2]! },
        swapped: { bus: srat[h + 2]!, devfn: srat[h + 3]! },
      });
    }
    off += len;
  }
  return out;
}

/** Does the entry name PCI function `bdf` ("0000:81:00.0"), read either way? */
export function namesFunction(e: GiEntry, bdf: string): boolean {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(bdf);
  if (!m) throw new Error(`not a BDF: ${bdf}`);
  const seg = Number.parseInt(m[1]!, 16);
  const bus = Number.parseInt(m[2]!, 16);
  const devfn = (Number.parseInt(m[3]!, 16) << 3) | Number(m[4]);
  const is = (x: { bus: number; devfn: number }) => x.bus === bus && x.devfn === devfn;
  return e.segment === seg && (is(e.spec) || is(e.swapped));
}
