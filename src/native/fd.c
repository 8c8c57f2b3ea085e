/*
 * Plain fd primitives: close, dup, and positioned full reads and writes.
 *
 * Rules: new fds are close-on-exec; a read or write loops until done (short transfers are
 * retried, a transfer that makes no progress is an error).
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

/* closeFd(fd): close, ignoring EINTR (the fd is gone either way on Linux). */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!nvu_get_int(env, argv[0], &fd, "fd")) return NULL;
  if (close(fd) < 0 && errno != EINTR) return nvu_throw_errno(env, errno, "close");
  return nvu_undefined(env);
}

/* dupFd(fd) → new fd (close-on-exec). */
static napi_value dup_fd(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!nvu_get_int(env, argv[0], &fd, "fd")) return NULL;
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return nvu_throw_errno(env, errno, "dup");
  return nvu_int(env, d);
}

/* The bytes of a Uint8Array/Buffer argument. */
static bool get_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type;
  void *p = NULL;
  if (!is || napi_get_typedarray_info(env, v, &type, len, &p, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    nvu_throw_type(env, "data must be a Uint8Array or Buffer");
    return false;
  }
  *data = p;
  return true;
}

/* The (fd, bytes, position) arguments preadFull and pwriteFull share; false with a JS
 * exception pending when one is not what it should be. */
static bool get_positional_io(napi_env env, napi_value *argv, int32_t *fd, uint8_t **data,
                              size_t *len, uint64_t *pos) {
  return nvu_get_int(env, argv[0], fd, "fd") && get_bytes(env, argv[1], data, len) &&
         nvu_get_u64(env, argv[2], pos, "position");
}

/* preadFull(fd, target, position) → bytes read from the file. Loops over short reads; at end
 * of file the rest of target is zero-filled. One native call instead of fs.readSync's
 * argument checking: this is the device-memory hot path. */
static napi_value pread_full(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd;
  uint8_t *data;
  size_t len;
  uint64_t pos;
  if (!get_positional_io(env, argv, &fd, &data, &len, &pos)) return NULL;
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, data + done, len - done, (off_t)(pos + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return nvu_throw_errno(env, errno, "pread");
    }
    if (n == 0) {
      memset(data + done, 0, len - done);
      break;
    }
    done += (size_t)n;
  }
  return nvu_int(env, (int64_t)done);
}

/* pwriteFull(fd, data, position): writes all of data; a write that makes no progress is an
 * error, never a spin. */
static napi_value pwrite_full(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd;
  uint8_t *data;
  size_t len;
  uint64_t pos;
  if (!get_positional_io(env, argv, &fd, &data, &len, &pos)) return NULL;
  size_t done = 0;
  while (done < len) {
    ssize_t n = pwrite(fd, data + done, len - done, (off_t)(pos + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return nvu_throw_errno(env, errno, "pwrite");
    }
    if (n == 0) return nvu_throw_errno(env, EIO, "pwrite (no progress)");
    done += (size_t)n;
  }
  return nvu_undefined(env);
}

napi_value nvu_init_fd(napi_env env, napi_value exports) {
  nvu_export(env, exports, "preadFull", pread_full);
  nvu_export(env, exports, "pwriteFull", pwrite_full);
  nvu_export(env, exports, "closeFd", close_fd);
  nvu_export(env, exports, "dupFd", dup_fd);
  return exports;
}
