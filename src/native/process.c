/*
 * Process-wide facts the server needs from the kernel: the open-file limit (read and raised
 * to its hard maximum at start, so advertised limits can be honoured) and systemd's readiness
 * notification (one datagram to $NOTIFY_SOCKET).
 *
 * Rules: nothing here keeps state; a failure is an errno error for the caller to report.
 */
#include "common.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value limits_object(napi_env env, const struct rlimit *r) {
  napi_value o;
  napi_create_object(env, &o);
  napi_value soft = nvu_int(env, r->rlim_cur == RLIM_INFINITY ? -1 : (int64_t)r->rlim_cur);
  napi_value hard = nvu_int(env, r->rlim_max == RLIM_INFINITY ? -1 : (int64_t)r->rlim_max);
  napi_set_named_property(env, o, "soft", soft);
  napi_set_named_property(env, o, "hard", hard);
  return o;
}

/* raiseNofile() → { soft, hard } after raising the soft RLIMIT_NOFILE to the hard one
 * (-1 = unlimited). A refused raise leaves the limit as it was and reports it. */
static napi_value raise_nofile(napi_env env, napi_callback_info info) {
  (void)info;
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) < 0) return nvu_throw_errno(env, errno, "getrlimit");
  if (r.rlim_cur != r.rlim_max) {
    struct rlimit want = {r.rlim_max, r.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) r = want;
  }
  return limits_object(env, &r);
}

/* notifySocket(address, message): send one datagram to a systemd-style notify socket; an
 * address starting with '@' is in the abstract namespace. */
static napi_value notify_socket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = nvu_get_string(env, argv[0], "address");
  if (!path) return NULL;
  char *msg = nvu_get_string(env, argv[1], "message");
  if (!msg) {
    free(path);
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof addr.sun_path) {
    free(path);
    free(msg);
    return nvu_throw_errno(env, ENAMETOOLONG, "NOTIFY_SOCKET (empty or over 107 bytes)");
  }
  memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  free(path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    free(msg);
    return nvu_throw_errno(env, errno, "socket");
  }
  ssize_t n;
  do n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&addr, alen);
  while (n < 0 && errno == EINTR);
  int e = errno;
  close(fd);
  free(msg);
  if (n < 0) return nvu_throw_errno(env, e, "sendto (NOTIFY_SOCKET)");
  return nvu_undefined(env);
}

napi_value nvu_init_process(napi_env env, napi_value exports) {
  nvu_export(env, exports, "raiseNofile", raise_nofile);
  nvu_export(env, exports, "notifySocket", notify_socket);
  return exports;
}
