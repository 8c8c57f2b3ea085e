/*
 * The few vfio-user wire facts the native benchmark programs need (client.c, floor.c), in C.
 *
 * Rules: these mirror src/vfio-user/protocol/constants.ts (the project's one definition);
 * test/bench-native-wire.test.ts fails if the two ever disagree. Little-endian host assumed
 * (x86_64, aarch64), as the wire format is little-endian. Helpers here never allocate.
 */
#ifndef NVB_WIRE_H
#define NVB_WIRE_H

#include <stdint.h>
#include <string.h>

#define VFU_HEADER 16
#define VFU_CMD_VERSION 1
#define VFU_CMD_DEVICE_GET_INFO 4
#define VFU_CMD_DEVICE_GET_REGION_INFO 5
#define VFU_CMD_REGION_READ 9
#define VFU_CMD_REGION_WRITE 10
#define VFU_FLAG_TYPE_MASK 0xf
#define VFU_FLAG_TYPE_COMMAND 0x0
#define VFU_FLAG_TYPE_REPLY 0x1
#define VFU_FLAG_NO_REPLY 0x10
#define VFU_FLAG_ERROR 0x20
#define VFU_REGION_ACCESS 16 /* u64 offset, u32 region, u32 count */
#define VFU_DEVICE_INFO 16   /* u32 argsz, flags, num_regions, num_irqs */
#define VFU_REGION_INFO 32   /* u32 argsz, flags, index, cap_offset; u64 size, offset */
#define VFU_REGION_FLAG_READ 0x1
#define VFU_REGION_FLAG_WRITE 0x2
#define VFU_MAX_DATA_XFER (1u << 20)

static inline uint16_t nvb_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t nvb_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t nvb_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void nvb_put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void nvb_put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void nvb_put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Writes a message header at p. */
static inline void nvb_header(uint8_t *p, uint16_t id, uint16_t cmd, uint32_t size, uint32_t flags,
                              uint32_t err) {
  nvb_put16(p, id);
  nvb_put16(p + 2, cmd);
  nvb_put32(p + 4, size);
  nvb_put32(p + 8, flags);
  nvb_put32(p + 12, err);
}

#endif
