/*
 * Memory files and mappings: memfd, ftruncate, size seals, mmap as an external ArrayBuffer.
 *
 * Rules: fds are close-on-exec. A mapping is unmapped exactly once: by unmapRegion() (which
 * first detaches the ArrayBuffer so JS cannot touch freed memory) or by the ArrayBuffer's
 * finalizer, whichever comes first.
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

typedef struct {
  void *addr;
  size_t len;
  int refs; /* the ArrayBuffer and the JS handle */
  int unmapped;
} mapping_t;

static const napi_type_tag map_tag = {0x6e76756d6170706eULL, 0x243f6a8885a308d3ULL};

/* memfdCreate(name) → fd (MFD_CLOEXEC | MFD_ALLOW_SEALING), size 0. */
static napi_value memfd_create_(napi_env env, napi_callback_info info) {
  ARGS(1);
  char *name = nvu_get_string(env, argv[0], "name");
  if (!name) return NULL;
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  int e = errno;
  free(name);
  if (fd < 0) return nvu_throw_errno(env, e, "memfd_create");
  return nvu_int(env, fd);
}

/* ftruncateFd(fd, size): sparse resize. */
static napi_value ftruncate_(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd;
  uint64_t size;
  if (!nvu_get_int(env, argv[0], &fd, "fd") || !nvu_get_u64(env, argv[1], &size, "size")) return NULL;
  int rc;
  do rc = ftruncate(fd, (off_t)size);
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return nvu_throw_errno(env, errno, "ftruncate");
  return nvu_undefined(env);
}

/* sealSize(fd): F_SEAL_SHRINK | F_SEAL_GROW — nobody holding the fd (a peer included) can
   change its size, so a mapping of it can never fault past the end (SIGBUS). */
static napi_value seal_size(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!nvu_get_int(env, argv[0], &fd, "fd")) return NULL;
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
    return nvu_throw_errno(env, errno, "fcntl(F_ADD_SEALS)");
  return nvu_undefined(env);
}

static void map_release(mapping_t *m) {
  if (!__atomic_exchange_n(&m->unmapped, 1, __ATOMIC_ACQ_REL)) munmap(m->addr, m->len);
}

static void map_unref(mapping_t *m) {
  if (__atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0) free(m);
}

static void finalize_buffer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  map_release(hint);
  map_unref(hint);
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  map_unref(data);
}

/* mmapFd(fd, offset, length, prot) → [ArrayBuffer, handle]; MAP_SHARED; prot bits 1 read, 2 write. */
static napi_value mmap_fd(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd, prot;
  uint64_t off, len;
  if (!nvu_get_int(env, argv[0], &fd, "fd") || !nvu_get_u64(env, argv[1], &off, "offset") ||
      !nvu_get_u64(env, argv[2], &len, "length") || !nvu_get_int(env, argv[3], &prot, "prot"))
    return NULL;
  if (len == 0) return nvu_throw_errno(env, EINVAL, "mmap (length 0)");
  int p = (prot & 1 ? PROT_READ : 0) | (prot & 2 ? PROT_WRITE : 0);
  void *addr = mmap(NULL, (size_t)len, p, MAP_SHARED, fd, (off_t)off);
  if (addr == MAP_FAILED) return nvu_throw_errno(env, errno, "mmap");
  mapping_t *m = calloc(1, sizeof *m);
  if (!m) {
    munmap(addr, (size_t)len);
    return nvu_throw_errno(env, ENOMEM, "calloc");
  }
  m->addr = addr;
  m->len = (size_t)len;
  m->refs = 2;
  napi_value ab, handle, result;
  if (napi_create_external_arraybuffer(env, addr, (size_t)len, finalize_buffer, m, &ab) != napi_ok) {
    munmap(addr, (size_t)len);
    free(m);
    nvu_throw_napi(env, "napi_create_external_arraybuffer");
    return NULL;
  }
  if (napi_create_external(env, m, finalize_handle, NULL, &handle) != napi_ok) {
    map_unref(m); /* the ArrayBuffer's finalizer still unmaps and drops its ref */
    nvu_throw_napi(env, "napi_create_external");
    return NULL;
  }
  napi_type_tag_object(env, handle, &map_tag);
  napi_create_array_with_length(env, 2, &result);
  napi_set_element(env, result, 0, ab);
  napi_set_element(env, result, 1, handle);
  return result;
}

/* unmapRegion(handle, arrayBuffer): detach the buffer, then munmap. Idempotent. */
static napi_value unmap_region(napi_env env, napi_callback_info info) {
  ARGS(2);
  bool ok = false;
  napi_valuetype t;
  if (napi_typeof(env, argv[0], &t) == napi_ok && t == napi_external)
    napi_check_object_type_tag(env, argv[0], &map_tag, &ok);
  if (!ok) return nvu_throw_type(env, "expected a mapping handle");
  mapping_t *m;
  napi_get_value_external(env, argv[0], (void **)&m);
  bool isab = false, detached = true;
  napi_is_arraybuffer(env, argv[1], &isab);
  if (isab) {
    napi_is_detached_arraybuffer(env, argv[1], &detached);
    if (!detached) {
      /* Hold a ref: on some engines detaching runs the finalizer right away. */
      __atomic_add_fetch(&m->refs, 1, __ATOMIC_ACQ_REL);
      napi_status st = napi_detach_arraybuffer(env, argv[1]);
      if (st != napi_ok) {
        map_unref(m);
        nvu_throw_napi(env, "napi_detach_arraybuffer");
        return NULL;
      }
      map_release(m);
      map_unref(m);
      return nvu_undefined(env);
    }
  }
  map_release(m);
  return nvu_undefined(env);
}

napi_value nvu_init_memory(napi_env env, napi_value exports) {
  nvu_export(env, exports, "memfdCreate", memfd_create_);
  nvu_export(env, exports, "ftruncateFd", ftruncate_);
  nvu_export(env, exports, "sealSize", seal_size);
  nvu_export(env, exports, "mmapFd", mmap_fd);
  nvu_export(env, exports, "unmapRegion", unmap_region);
  return exports;
}
