/**
 * A Topology as a QEMU (>= 10.1) argv: machine, CPU, memory, NUMA, PCIe topology and the
 * vfio-user devices; no display, disk, kernel or network options (the caller appends its
 * own). Pure: model in, argv out.
 *
 * Rules (QEMU's own, see the linked functions):
 * - guest RAM is a shared memfd, because vfio-user DMA maps carry fds; with
 *   `-numa node,memdev=` the machine takes no `memory-backend=` (numa.c refuses both);
 * - `vfio-user-pci` takes its socket only in JSON form, with the `x-msg-timeout` that covers
 *   the longest reply the server can hold (msg-timeout.ts); it sits at addr 0.0 behind its root
 *   port; never behind `arm-smmuv3,accel=on` (QEMU keeps that for vfio-pci with iommufd);
 * - one `acpi-generic-initiator` object per GI node, naming the GPU by its device id
 *   (hw/acpi/pci.c build_srat_generic_affinity_structures());
 * - aarch64 `virt`: gic-version=3, ACPI on, highmem-mmio-size = the window (a power of two);
 *   virt derives the IPA size from it, so -cpu needs no address-bits option;
 * - x86_64 `q35`: pci-hole64-size = the window; TCG sets phys-bits, KVM takes the host's
 *   (host-phys-bits): the host must have at least Topology.physBits.
 */
import { msgTimeoutProperty } from '../msg-timeout.js';
import { qemuSize } from '../qemu-cmdline.js';
import type { Topology } from './topology.js';

export interface QemuLaunch {
  binary: string;
  args: string[];
}

export function qemuArgs(t: Topology): QemuLaunch {
  const aarch64 = t.arch === 'aarch64';
  const args: string[] = [];
  const ram = qemuSize(t.memory);
  if (aarch64) {
    args.push('-machine', `virt,gic-version=3,acpi=on,highmem-mmio-size=${qemuSize(t.mmioWindow)}`);
    args.push('-accel', t.accel);
    args.push('-cpu', t.accel === 'kvm' ? 'host' : 'max');
  } else {
    args.push('-machine', 'q35');
    args.push('-accel', t.accel);
    args.push('-cpu', t.accel === 'kvm' ? 'host,host-phys-bits=on' : `max,phys-bits=${t.physBits}`);
    args.push('-global', `q35-pcihost.pci-hole64-size=${qemuSize(t.mmioWindow)}`);
  }
  args.push('-smp', String(t.cpus));
  args.push('-m', ram);
  args.push('-object', `memory-backend-memfd,id=mem0,size=${ram},share=on`);
  args.push('-numa', `node,nodeid=${t.cpuNode},cpus=0-${t.cpus - 1},memdev=mem0`);
  for (const g of t.gpus)
    for (const gi of g.initiators) args.push('-numa', `node,nodeid=${gi.node}`);
  if (t.expander) {
    const x = t.expander;
    args.push(
      '-device',
      `pxb-pcie,id=${x.id},bus_nr=${x.busNr},numa_node=${x.numaNode},bus=pcie.0`,
    );
  }
  for (const g of t.gpus) {
    const rp = g.rootPort;
    args.push(
      '-device',
      `pcie-root-port,id=${rp.id},bus=${rp.bus},chassis=${rp.chassis},pref64-reserve=${qemuSize(g.window)}`,
    );
    args.push(
      '-device',
      JSON.stringify({
        driver: 'vfio-user-pci',
        id: g.id,
        bus: rp.id,
        addr: '0.0',
        socket: { type: 'unix', path: g.socketPath },
        ...msgTimeoutProperty(g.msgTimeoutMs),
      }),
    );
  }
  for (const g of t.gpus)
    for (const gi of g.initiators)
      args.push('-object', `acpi-generic-initiator,id=${gi.id},pci-dev=${g.id},node=${gi.node}`);
  return { binary: `qemu-system-${t.arch}`, args };
}
