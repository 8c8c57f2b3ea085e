# note: cloud-hypervisor has no PCIe root ports: no pref64-reserve; each GPU is 00:00.0 of its own PCI segment instead
# note: cloud-hypervisor sizes the 64-bit window by segment weights and max_phys_bits, not by a size
# note: Generic Initiator nodes (--numa device_id=) need a cloud-hypervisor from 2026 or later
# note: cloud-hypervisor runs on KVM or MSHV only: --accel tcg has no equivalent
cloud-hypervisor \
  --cpus boot=4,max_phys_bits=42 \
  --memory size=0,shared=on \
  --memory-zone id=mem0,size=8192M,shared=on \
  --platform num_pci_segments=3 \
  --pci-segment pci_segment=1,mmio64_aperture_weight=64 \
  --pci-segment pci_segment=2,mmio64_aperture_weight=64 \
  --numa 'guest_numa_id=0,cpus=[0-3],memory_zones=[mem0],pci_segments=[0,1,2]' \
  --numa guest_numa_id=1,device_id=gpu0 \
  --numa guest_numa_id=2,device_id=gpu0 \
  --numa guest_numa_id=3,device_id=gpu0 \
  --numa guest_numa_id=4,device_id=gpu0 \
  --numa guest_numa_id=5,device_id=gpu0 \
  --numa guest_numa_id=6,device_id=gpu0 \
  --numa guest_numa_id=7,device_id=gpu0 \
  --numa guest_numa_id=8,device_id=gpu0 \
  --numa guest_numa_id=9,device_id=gpu1 \
  --numa guest_numa_id=10,device_id=gpu1 \
  --numa guest_numa_id=11,device_id=gpu1 \
  --numa guest_numa_id=12,device_id=gpu1 \
  --numa guest_numa_id=13,device_id=gpu1 \
  --numa guest_numa_id=14,device_id=gpu1 \
  --numa guest_numa_id=15,device_id=gpu1 \
  --numa guest_numa_id=16,device_id=gpu1 \
  --user-device socket=/run/nvgrace/gpu0.sock,id=gpu0,pci_segment=1 \
  --user-device socket=/run/nvgrace/gpu1.sock,id=gpu1,pci_segment=2 \
  # … your kernel, disk, console and network options here
