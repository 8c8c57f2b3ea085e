/**
 * `--format cloud-hypervisor`: the same topology as cloud-hypervisor options, one per line,
 * POSIX-quoted, ending where the user's own options go. Pure.
 *
 * Rules (cloud-hypervisor's vmm/src/config.rs, checked at ae44c2971, 2026-08):
 * - `--user-device socket=…,id=gpuN,pci_segment=N+1`: each GPU alone on its own PCI
 *   segment, where the first device gets 00:00.0 (segment 0's device 0 is its root), which
 *   is the function 0 of device 0 the guest driver requires; there are no root ports;
 * - RAM: `--memory size=0,shared=on` plus one shared `--memory-zone` for node 0, since
 *   vfio-user DMA needs shared memory and NUMA nodes name their memory by zone;
 * - `--numa guest_numa_id=K,device_id=gpuN`: a Generic Initiator node for a device, which
 *   cloud-hypervisor resolves for vfio-user devices too (DeviceManager device_id_to_bdf);
 * - the 64-bit window is not sized directly: each GPU segment gets a large
 *   mmio64_aperture_weight and `--cpus max_phys_bits` the address bits the window needs.
 * What it cannot express is returned as notes (pref64-reserve, a fixed window size, TCG).
 */
import { shellJoin } from '../qemu-cmdline.js';
import { USER_OPTIONS_MARK } from './format-shell.js';
import type { Topology } from './topology.js';

/** Segment 0 keeps weight 1; each GPU segment gets this many shares of the 64-bit space. */
const GPU_SEGMENT_WEIGHT = 64;

export function cloudHypervisorArgs(t: Topology): { args: string[]; notes: string[] } {
  const segments = t.gpus.map((g) => g.index + 1);
  const args = [
    '--cpus',
    `boot=${t.cpus},max_phys_bits=${t.physBits + 1}`,
    '--memory',
    'size=0,shared=on',
    '--memory-zone',
    `id=mem0,size=${t.memory / 2 ** 20}M,shared=on`,
    '--platform',
    `num_pci_segments=${t.gpus.length + 1}`,
  ];
  for (const s of segments)
    args.push('--pci-segment', `pci_segment=${s},mmio64_aperture_weight=${GPU_SEGMENT_WEIGHT}`);
  args.push(
    '--numa',
    `guest_numa_id=${t.cpuNode},cpus=[0-${t.cpus - 1}],memory_zones=[mem0],pci_segments=[0,${segments.join(',')}]`,
  );
  for (const g of t.gpus)
    for (const gi of g.initiators)
      args.push('--numa', `guest_numa_id=${gi.node},device_id=${g.id}`);
  for (const g of t.gpus)
    args.push('--user-device', `socket=${g.socketPath},id=${g.id},pci_segment=${g.index + 1}`);
  const notes = [
    'cloud-hypervisor has no PCIe root ports: no pref64-reserve; each GPU is 00:00.0 of its own PCI segment instead',
    'cloud-hypervisor sizes the 64-bit window by segment weights and max_phys_bits, not by a size',
    'Generic Initiator nodes (--numa device_id=) need a cloud-hypervisor from 2026 or later',
  ];
  if (t.accel === 'tcg')
    notes.push('cloud-hypervisor runs on KVM or MSHV only: --accel tcg has no equivalent');
  return { args, notes };
}

export function formatCloudHypervisor(t: Topology): string {
  const { args, notes } = cloudHypervisorArgs(t);
  const head = notes.map((n) => `# note: ${n}\n`).join('');
  return `${head}${shellJoin(['cloud-hypervisor', ...args])} \\\n  ${USER_OPTIONS_MARK}\n`;
}
