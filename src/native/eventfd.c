/*
 * eventfds: create, read and write the counter.
 *
 * Rules: fds are close-on-exec and non-blocking; EAGAIN is reported as a value, not an
 * exception, because it is an expected answer.
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

/* eventfdCreate(initval, semaphore) → fd */
static napi_value eventfd_create(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t init;
  if (!nvu_get_int(env, argv[0], &init, "initval")) return NULL;
  bool sem = false;
  napi_get_value_bool(env, argv[1], &sem);
  int fd = eventfd((unsigned)init, EFD_NONBLOCK | EFD_CLOEXEC | (sem ? EFD_SEMAPHORE : 0));
  if (fd < 0) return nvu_throw_errno(env, errno, "eventfd");
  return nvu_int(env, fd);
}

/* eventfdRead(fd) → bigint counter, or null when it is zero (EAGAIN). */
static napi_value eventfd_read_(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  if (!nvu_get_int(env, argv[0], &fd, "fd")) return NULL;
  uint64_t v;
  ssize_t n;
  do n = read(fd, &v, sizeof v);
  while (n < 0 && errno == EINTR);
  napi_value r;
  if (n < 0) {
    if (errno == EAGAIN) return napi_get_null(env, &r), r;
    return nvu_throw_errno(env, errno, "read(eventfd)");
  }
  if (n != sizeof v) return nvu_throw_errno(env, EIO, "read(eventfd) short");
  napi_create_bigint_uint64(env, v, &r);
  return r;
}

/*
 * eventfdWrite(fd, value, pollFirst) → true, or false when the counter would overflow (EAGAIN).
 * pollFirst: the fd may be blocking (someone else's eventfd): check writability with a zero
 * timeout poll so a full counter can never block the event loop.
 */
static napi_value eventfd_write_(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t fd;
  uint64_t v;
  bool poll_first = false;
  if (!nvu_get_int(env, argv[0], &fd, "fd") || !nvu_get_u64(env, argv[1], &v, "value")) return NULL;
  napi_get_value_bool(env, argv[2], &poll_first);
  napi_value r;
  if (poll_first) {
    struct pollfd pfd = {fd, POLLOUT, 0};
    int pr;
    do pr = poll(&pfd, 1, 0);
    while (pr < 0 && errno == EINTR);
    if (pr < 0) return nvu_throw_errno(env, errno, "poll(eventfd)");
    if (pr == 0 || !(pfd.revents & POLLOUT)) return napi_get_boolean(env, false, &r), r;
  }
  ssize_t n;
  do n = write(fd, &v, sizeof v);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return napi_get_boolean(env, false, &r), r;
    return nvu_throw_errno(env, errno, "write(eventfd)");
  }
  napi_get_boolean(env, true, &r);
  return r;
}

napi_value nvu_init_eventfd(napi_env env, napi_value exports) {
  nvu_export(env, exports, "eventfdCreate", eventfd_create);
  nvu_export(env, exports, "eventfdRead", eventfd_read_);
  nvu_export(env, exports, "eventfdWrite", eventfd_write_);
  return exports;
}
