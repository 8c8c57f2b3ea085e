/**
 * Config space as text tools read it: `lspci -xxxx` format (a device line, then 16 bytes a
 * line as "off: hh hh …"), which `lspci -F FILE -vvv` decodes; and one hex string for
 * `inspect --json` (4096 numbers would drown the rest). Pure: bytes in, text out.
 */

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/** The `lspci -xxxx` dump of one function at 00:00.0 (lspci -F needs the address line). */
export function formatLspciHex(config: readonly number[]): string {
  const u16 = (o: number) => (config[o] ?? 0) | ((config[o + 1] ?? 0) << 8);
  const cls = u16(0x0a);
  const lines = [
    `00:00.0 Class ${cls.toString(16).padStart(4, '0')}: Device ${u16(0).toString(16).padStart(4, '0')}:${u16(2).toString(16).padStart(4, '0')}`,
  ];
  for (let off = 0; off < config.length; off += 16) {
    const row = config
      .slice(off, off + 16)
      .map(hex2)
      .join(' ');
    lines.push(`${off.toString(16).padStart(off >= 0x100 ? 3 : 2, '0')}: ${row}`);
  }
  return `${lines.join('\n')}\n\n`;
}

/** Config bytes as one lowercase hex string (2 digits a byte, offset 0 first). */
export function configHex(config: readonly number[]): string {
  return config.map(hex2).join('');
}
