/**
 * `--format libvirt`: a domain XML fragment holding the machine, CPU, memory, NUMA and PCIe
 * topology, to merge into a domain (which adds boot, disks, consoles). Pure.
 *
 * Rules (libvirt's domain format):
 * - RAM is memfd-backed and shared (<memoryBacking>), node 0 holds every vCPU and all RAM,
 *   the GI nodes are memory-less cells (<numa>);
 * - the PCIe topology uses libvirt's own controllers (pcie-expander-bus with <node> on
 *   aarch64, pcie-root-port), each root port aliased ua-rpN so QEMU names it that;
 *   pref64-reserve has no libvirt attribute: <qemu:override> sets it;
 * - libvirt has no device type for vfio-user, so the GPUs, their acpi-generic-initiator
 *   objects and virt's highmem-mmio-size go into <qemu:commandline>. <acpi nodeset> (which
 *   makes libvirt write those objects itself) exists only on <hostdev>, so it cannot apply;
 *   each GPU's JSON carries the same `x-msg-timeout` as the QEMU argv (msg-timeout.ts);
 * - x86_64: <pcihole64> on pcie-root and <maxphysaddr> on the CPU carry the window.
 */
import { msgTimeoutProperty } from '../msg-timeout.js';
import { qemuSize } from '../qemu-cmdline.js';
import type { Topology } from './topology.js';

const esc = (s: string) =>
  s
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');
const MiB = 2 ** 20;

export function formatLibvirt(t: Topology): string {
  const aarch64 = t.arch === 'aarch64';
  const x: string[] = [];
  const kvm = t.accel === 'kvm';
  x.push(
    `<!-- nvgrace-user vm-config: ${t.gpus.length} GPU(s), ${t.nodeCount} NUMA nodes; merge into your domain (boot, disks, consoles) -->`,
  );
  x.push(
    `<domain type="${kvm ? 'kvm' : 'qemu'}" xmlns:qemu="http://libvirt.org/schemas/domain/qemu/1.0">`,
  );
  x.push(`  <memory unit="MiB">${t.memory / MiB}</memory>`);
  x.push('  <memoryBacking>', '    <source type="memfd"/>', '    <access mode="shared"/>');
  x.push('  </memoryBacking>');
  x.push(`  <vcpu placement="static">${t.cpus}</vcpu>`);
  x.push('  <os>', `    <type arch="${t.arch}" machine="${aarch64 ? 'virt' : 'q35'}">hvm</type>`);
  x.push('  </os>');
  x.push('  <features>', '    <acpi/>');
  if (aarch64) x.push('    <gic version="3"/>');
  x.push('  </features>');
  x.push(`  <cpu mode="${kvm ? 'host-passthrough' : 'maximum'}">`);
  if (!aarch64)
    x.push(
      kvm
        ? '    <maxphysaddr mode="passthrough"/>'
        : `    <maxphysaddr mode="emulate" bits="${t.physBits}"/>`,
    );
  x.push('    <numa>');
  x.push(
    `      <cell id="${t.cpuNode}" cpus="0-${t.cpus - 1}" memory="${t.memory / MiB}" unit="MiB" memAccess="shared"/>`,
  );
  for (const g of t.gpus)
    for (const gi of g.initiators) x.push(`      <cell id="${gi.node}" memory="0" unit="KiB"/>`);
  x.push('    </numa>', '  </cpu>');
  x.push('  <devices>');
  if (aarch64) x.push('    <controller type="pci" index="0" model="pcie-root"/>');
  else {
    x.push('    <controller type="pci" index="0" model="pcie-root">');
    x.push(`      <pcihole64 unit="KiB">${t.mmioWindow / 1024}</pcihole64>`);
    x.push('    </controller>');
  }
  let index = 1;
  let portBus = 0;
  if (t.expander) {
    portBus = index;
    x.push(`    <controller type="pci" index="${index++}" model="pcie-expander-bus">`);
    x.push('      <model name="pxb-pcie"/>');
    x.push(`      <target busNr="${t.expander.busNr}">`);
    x.push(`        <node>${t.expander.numaNode}</node>`, '      </target>');
    x.push(`      <alias name="ua-${t.expander.id}"/>`);
    x.push('    </controller>');
  }
  for (const g of t.gpus) {
    x.push(`    <controller type="pci" index="${index++}" model="pcie-root-port">`);
    x.push('      <model name="pcie-root-port"/>');
    x.push(`      <target chassis="${g.rootPort.chassis}" port="0x${g.index.toString(16)}"/>`);
    x.push(`      <alias name="ua-${g.rootPort.id}"/>`);
    if (t.expander)
      x.push(
        `      <address type="pci" domain="0x0000" bus="0x${portBus.toString(16).padStart(2, '0')}" slot="0x${g.index.toString(16).padStart(2, '0')}" function="0x0"/>`,
      );
    x.push('    </controller>');
  }
  x.push('  </devices>');
  x.push('  <qemu:commandline>');
  const arg = (v: string) => x.push(`    <qemu:arg value="${esc(v)}"/>`);
  if (aarch64) {
    arg('-machine');
    arg(`highmem-mmio-size=${qemuSize(t.mmioWindow)}`);
  }
  for (const g of t.gpus) {
    arg('-device');
    arg(
      JSON.stringify({
        driver: 'vfio-user-pci',
        id: g.id,
        bus: `ua-${g.rootPort.id}`,
        addr: '0.0',
        socket: { type: 'unix', path: g.socketPath },
        ...msgTimeoutProperty(g.msgTimeoutMs),
      }),
    );
  }
  for (const g of t.gpus)
    for (const gi of g.initiators) {
      arg('-object');
      arg(`acpi-generic-initiator,id=${gi.id},pci-dev=${g.id},node=${gi.node}`);
    }
  x.push('  </qemu:commandline>');
  x.push('  <qemu:override>');
  for (const g of t.gpus) {
    x.push(`    <qemu:device alias="ua-${g.rootPort.id}">`, '      <qemu:frontend>');
    x.push(`        <qemu:property name="pref64-reserve" type="unsigned" value="${g.window}"/>`);
    x.push('      </qemu:frontend>', '    </qemu:device>');
  }
  x.push('  </qemu:override>');
  x.push('</domain>');
  return `${x.join('\n')}\n`;
}
