/**
 * vm-config golden outputs: every format for each arch, 1, 2 and 4 GPUs of gh200 and gb300,
 * with the BAR sizes the device model serves (not typed in). Regenerate after a deliberate
 * change with UPDATE_GOLDEN=1 and review the diff. Also: the shell line re-parses, by a real
 * POSIX shell, into exactly the JSON argv.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildDevice } from '../../src/cli/build-device.js';
import {
  type GpuFacts,
  renderVmConfig,
  VM_FORMATS,
  type VmFormat,
} from '../../src/cli/vm-config/index.js';
import type { Arch } from '../../src/cli/vm-config/topology.js';

const goldenDir = join(import.meta.dirname, '../../../test/golden/vm-config');
// Shell lines are stored as .txt: they are expected output (data), never run or sourced.
const EXT: Record<VmFormat, string> = {
  shell: 'sh.txt',
  json: 'json',
  libvirt: 'xml',
  'cloud-hypervisor': 'ch.txt',
};

async function factsOf(profile: 'gh200' | 'gb300', n: number): Promise<GpuFacts[]> {
  const built = await buildDevice({ profile, kernel: '6.19' });
  try {
    const s = built.summary;
    return Array.from({ length: n }, (_, i) => ({
      socketPath: `/run/nvgrace/gpu${i}.sock`,
      vendorId: s.vendorId,
      deviceId: s.deviceId,
      barSizes: s.bars.map((b) => b.size),
      cxlMemActiveTimeoutMs: s.gate?.cxlMemActiveTimeoutMs ?? null,
    }));
  } finally {
    built.close();
  }
}

const GiB = 2 ** 30;
const CASES = (['aarch64', 'x86_64'] as Arch[]).flatMap((arch) =>
  (['gh200', 'gb300'] as const).flatMap((profile) =>
    [1, 2, 4].map((n) => ({ arch, profile, n, name: `${arch}-${profile}-x${n}` })),
  ),
);

function render(facts: GpuFacts[], arch: Arch, format: VmFormat) {
  return renderVmConfig(facts, { arch, accel: 'tcg', memory: 8 * GiB, cpus: 4 }, format);
}

describe('vm-config prints the golden config for each format, arch, profile and GPU count', () => {
  for (const c of CASES) {
    it(`${c.name}: shell, json, libvirt and cloud-hypervisor match test/golden/vm-config`, async () => {
      const facts = await factsOf(c.profile, c.n);
      for (const format of VM_FORMATS) {
        const file = join(goldenDir, `${c.name}.${EXT[format]}`);
        const { text } = render(facts, c.arch, format);
        if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
        assert.ok(existsSync(file), `${file} missing (run with UPDATE_GOLDEN=1)`);
        assert.equal(text, readFileSync(file, 'utf8'), `${c.name} ${format}`);
      }
    });
  }
});

describe('vm-config: facts the goldens rest on', () => {
  it('one gh200 on aarch64: root port reserves 256G behind pxb-pcie on node 0, 9 nodes, no warning', async () => {
    const r = render(await factsOf('gh200', 1), 'aarch64', 'json');
    const { binary, args } = JSON.parse(r.text) as { binary: string; args: string[] };
    assert.equal(binary, 'qemu-system-aarch64');
    assert.ok(args.includes('pxb-pcie,id=pxb0,bus_nr=128,numa_node=0,bus=pcie.0'));
    assert.ok(args.includes('pcie-root-port,id=rp0,bus=pxb0,chassis=1,pref64-reserve=256G'));
    assert.equal(args.filter((a) => a.startsWith('acpi-generic-initiator,')).length, 8);
    assert.equal(args.filter((a) => a.startsWith('node,nodeid=')).length, 9);
    assert.match(args[1]!, /^virt,gic-version=3,acpi=on,highmem-mmio-size=512G$/);
    assert.ok(!args.some((a) => a.includes('arm-smmuv3')), 'never behind an SMMU');
    assert.ok(!args.some((a) => a.startsWith('-machine') && a.includes('memory-backend')));
    assert.deepEqual(r.warnings, []);
  });

  it('two GPUs on aarch64 warn about the 16-node limit; GI nodes follow the CPU node in order', async () => {
    const r = render(await factsOf('gh200', 2), 'aarch64', 'json');
    assert.match(r.warnings.join('\n'), /17 NUMA nodes.*CONFIG_NODES_SHIFT=4/);
    const { args } = JSON.parse(r.text) as { args: string[] };
    const gi = args.filter((a) => a.startsWith('acpi-generic-initiator,'));
    assert.equal(gi[0], 'acpi-generic-initiator,id=gi0,pci-dev=gpu0,node=1');
    assert.equal(gi[15], 'acpi-generic-initiator,id=gi15,pci-dev=gpu1,node=16');
  });

  it('four gb300 on x86_64: 1T per root port, an 8T hole64 and phys-bits that reach past it', async () => {
    const { args } = JSON.parse(render(await factsOf('gb300', 4), 'x86_64', 'json').text) as {
      args: string[];
    };
    assert.ok(args.includes('q35-pcihost.pci-hole64-size=8T'));
    assert.ok(args.includes('max,phys-bits=44'));
    assert.equal(args.filter((a) => a.endsWith('pref64-reserve=1T')).length, 4);
  });

  it('the GPU is at addr 0.0 behind its own root port, socket in JSON form', async () => {
    const { args } = JSON.parse(render(await factsOf('gb300', 2), 'x86_64', 'json').text) as {
      args: string[];
    };
    const devs = args.filter((a) => a.startsWith('{')).map((a) => JSON.parse(a));
    assert.deepEqual(
      devs.map((d) => [d.driver, d.bus, d.addr, d.socket.path]),
      [
        ['vfio-user-pci', 'rp0', '0.0', '/run/nvgrace/gpu0.sock'],
        ['vfio-user-pci', 'rp1', '0.0', '/run/nvgrace/gpu1.sock'],
      ],
    );
  });

  it('too little memory or no GPU is refused with a clear RangeError', async () => {
    const facts = await factsOf('gh200', 1);
    assert.throws(
      () =>
        renderVmConfig(facts, { arch: 'x86_64', accel: 'tcg', memory: 2 ** 20, cpus: 1 }, 'json'),
      /--memory must be at least 1 GiB/,
    );
    assert.throws(
      () => renderVmConfig([], { arch: 'x86_64', accel: 'tcg', memory: GiB, cpus: 1 }, 'json'),
      /at least one GPU socket/,
    );
  });
});

describe('the shell format re-parses into the JSON argv', () => {
  for (const c of CASES) {
    it(`${c.name}: sh word-splits the printed line into exactly binary + args`, async () => {
      const facts = await factsOf(c.profile, c.n);
      const json = JSON.parse(render(facts, c.arch, 'json').text) as {
        binary: string;
        args: string[];
      };
      const line = render(facts, c.arch, 'shell').text;
      // The printed text as the arguments of a function that prints each one NUL-terminated.
      const r = spawnSync('sh', ['-c', `argv() { printf '%s\\0' "$@"; }\nargv ${line}`], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.split('\0').slice(0, -1), [json.binary, ...json.args]);
    });
  }
});

const noValidator =
  spawnSync('sh', ['-c', 'command -v virt-xml-validate && command -v xmllint']).status === 0
    ? false
    : 'virt-xml-validate and xmllint not installed (apt-get install libvirt-clients libxml2-utils)';

describe('the libvirt fragments validate against libvirt’s domain schema', {
  skip: noValidator,
}, () => {
  it('every libvirt golden, given a <name>, is a valid domain for virt-xml-validate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nvgrace-xml-'));
    try {
      for (const c of CASES) {
        const xml = readFileSync(join(goldenDir, `${c.name}.xml`), 'utf8').replace(
          /(<domain [^>]*>)/,
          '$1\n  <name>nvgrace</name>',
        );
        const file = join(dir, `${c.name}.xml`);
        writeFileSync(file, xml);
        const r = spawnSync('virt-xml-validate', [file, 'domain'], { encoding: 'utf8' });
        assert.equal(r.status, 0, `${c.name}: ${r.stdout}${r.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
