/**
 * A throw-away guest for the topology interop tests: an initramfs of the given static
 * busybox plus an init that reports, as NVG-* marker lines on the console, every NVIDIA
 * function (BDF, BARs, device memory written and read back through BAR4), the NUMA nodes
 * (has_generic_initiator) and the raw SRAT, then powers off. Built with cpio at test time:
 * nothing is downloaded, nothing is kept.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "NVG-BOOT $(uname -r)"
n=0
for d in /sys/bus/pci/devices/*; do
  [ "$(cat $d/vendor)" = 0x10de ] || continue
  b=\${d##*/}
  echo "NVG-GPU $b device=$(cat $d/device)"
  i=0
  while read -r s e f; do
    [ $((s)) != 0 ] && echo "NVG-BAR $b $i $(printf 0x%x $((e - s + 1)))"
    i=$((i + 1))
  done < $d/resource
  echo 1 > $d/enable
  s4=$(sed -n 5p $d/resource | cut -d' ' -f1)
  p=$(printf 0x%08x $((0x5a5a0000 + n)))
  devmem $(printf 0x%x $((s4 + 0x1000))) 32 $p
  echo "NVG-RW $b $p $(devmem $(printf 0x%x $((s4 + 0x1000))) 32)"
  n=$((n + 1))
done
echo "NVG-NODES possible=$(cat /sys/devices/system/node/possible) gi=$(cat /sys/devices/system/node/has_generic_initiator)"
echo NVG-SRAT-BEGIN
od -An -tx1 -v /sys/firmware/acpi/tables/SRAT
echo NVG-SRAT-END
echo NVG-DONE
poweroff -f
`;

/** Build initramfs.cpio from `busybox` into a fresh directory; returns its path and a cleanup. */
export function buildInitramfs(busybox: string): { path: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nvgrace-guest-'));
  const root = join(dir, 'root');
  for (const d of ['bin', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  execFileSync('chmod', ['755', join(root, 'bin', 'busybox')]);
  writeFileSync(join(root, 'init'), INIT, { mode: 0o755 });
  const path = join(dir, 'initramfs.cpio');
  execFileSync('sh', ['-c', `cd "${root}" && find . | cpio -o -H newc --quiet > "${path}"`]);
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface GuestReport {
  gpus: { bdf: string; device: string; bars: Map<number, number>; wrote?: string; read?: string }[];
  possibleNodes: string;
  giNodes: string;
  srat: Uint8Array | null;
  done: boolean;
}

/** Parse the NVG-* lines of a guest console. */
export function parseGuestReport(out: string): GuestReport {
  const lines = out.replaceAll('\r', '').split('\n');
  const gpus: GuestReport['gpus'] = [];
  const byBdf = new Map<string, GuestReport['gpus'][number]>();
  let possibleNodes = '';
  let giNodes = '';
  let sratHex: string[] | null = null;
  let inSrat = false;
  for (const line of lines) {
    if (inSrat) {
      if (line.includes('NVG-SRAT-END')) inSrat = false;
      else
        sratHex!.push(
          ...line
            .trim()
            .split(/\s+/)
            .filter((h) => /^[0-9a-f]{2}$/.test(h)),
        );
      continue;
    }
    let m = /NVG-GPU (\S+) device=(\S+)/.exec(line);
    if (m) {
      const g = { bdf: m[1]!, device: m[2]!, bars: new Map<number, number>() };
      gpus.push(g);
      byBdf.set(g.bdf, g);
    }
    m = /NVG-BAR (\S+) (\d) (0x[0-9a-f]+)/.exec(line);
    if (m) byBdf.get(m[1]!)?.bars.set(Number(m[2]), Number(m[3]));
    m = /NVG-RW (\S+) (\S+) (\S+)/.exec(line);
    if (m) {
      const g = byBdf.get(m[1]!);
      if (g) {
        g.wrote = m[2]!;
        g.read = m[3]!;
      }
    }
    m = /NVG-NODES possible=(\S*) gi=(\S*)/.exec(line);
    if (m) {
      possibleNodes = m[1]!;
      giNodes = m[2]!;
    }
    if (line.includes('NVG-SRAT-BEGIN')) {
      inSrat = true;
      sratHex = [];
    }
  }
  return {
    gpus,
    possibleNodes,
    giNodes,
    srat: sratHex ? Uint8Array.from(sratHex.map((h) => Number.parseInt(h, 16))) : null,
    done: out.includes('NVG-DONE'),
  };
}
