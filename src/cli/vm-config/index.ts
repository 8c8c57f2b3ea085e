/**
 * `vm-config SOCKET...`: read what each socket serves (gather.ts), plan the Grace VM
 * topology (topology.ts) and print it in one format (one file each). renderVmConfig is pure;
 * runVmConfig adds the socket reading.
 */
import { cloudHypervisorArgs, formatCloudHypervisor } from './format-cloud-hypervisor.js';
import { formatJson } from './format-json.js';
import { formatLibvirt } from './format-libvirt.js';
import { formatShell } from './format-shell.js';
import type { VmFormat } from './formats.js';
import { gatherFacts } from './gather.js';
import { qemuArgs } from './qemu-args.js';
import { type GpuFacts, planTopology, type VmOptions } from './topology.js';

export { VM_FORMATS, type VmFormat } from './formats.js';

export interface VmConfigOutput {
  text: string;
  /** Said on stderr: the config needs more than common guests or this VMM can do. */
  warnings: string[];
}

export function renderVmConfig(
  facts: readonly GpuFacts[],
  opts: VmOptions,
  format: VmFormat,
): VmConfigOutput {
  const t = planTopology(facts, opts);
  const warnings = [...t.warnings];
  switch (format) {
    case 'shell':
      return { text: formatShell(qemuArgs(t)), warnings };
    case 'json':
      return { text: formatJson(qemuArgs(t)), warnings };
    case 'libvirt':
      return { text: formatLibvirt(t), warnings };
    case 'cloud-hypervisor':
      warnings.push(...cloudHypervisorArgs(t).notes);
      return { text: formatCloudHypervisor(t), warnings };
  }
}

export async function runVmConfig(
  sockets: readonly string[],
  opts: VmOptions & { format: VmFormat; timeoutMs: number },
): Promise<VmConfigOutput> {
  const facts: GpuFacts[] = [];
  for (const s of sockets) facts.push(await gatherFacts(s, opts.timeoutMs));
  return renderVmConfig(facts, opts, opts.format);
}

export { ACCELS, ARCHES, type GpuFacts, type VmOptions } from './topology.js';
