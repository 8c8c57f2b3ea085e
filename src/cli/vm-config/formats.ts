/** The output formats of `vm-config`, apart so that the CLI can list them without loading the generators. */
export const VM_FORMATS = ['shell', 'json', 'libvirt', 'cloud-hypervisor'] as const;
export type VmFormat = (typeof VM_FORMATS)[number];
