/*
 * AF_UNIX listening, accepting and connecting, the stale-socket probe, and a generic
 * "fd became readable" watcher (listening sockets, eventfds).
 *
 * Rules: every fd made here is non-blocking and close-on-exec. A path socket is bound under
 * umask 0177, so it is born mode 0600 before anyone can connect (no chmod afterwards through
 * a path that could have been swapped for a symlink). An inherited fd must already be a
 * listening AF_UNIX stream socket; anything else is refused.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

static bool make_addr(napi_env env, napi_value v, struct sockaddr_un *addr) {
  char *path = nvu_get_string(env, v, "path");
  if (!path) return false;
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof addr->sun_path) {
    free(path);
    nvu_throw_errno(env, ENAMETOOLONG, len == 0 ? "socket path (empty)" : "socket path (max 107 bytes)");
    return false;
  }
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  memcpy(addr->sun_path, path, len);
  free(path);
  return true;
}

/* listenPath(path, backlog) → fd. The caller has made sure nothing is at path. */
static napi_value listen_path(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct sockaddr_un addr;
  int32_t backlog;
  if (!make_addr(env, argv[0], &addr) || !nvu_get_int(env, argv[1], &backlog, "backlog"))
    return NULL;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return nvu_throw_errno(env, errno, "socket");
  /* umask is process-wide: this is done at start-up, before any file I/O is in flight. */
  mode_t old = umask(0177);
  int rc = bind(fd, (struct sockaddr *)&addr, sizeof addr);
  int e = errno;
  umask(old);
  if (rc < 0) {
    close(fd);
    return nvu_throw_errno(env, e, "bind");
  }
  if (listen(fd, backlog) < 0) {
    e = errno;
    close(fd);
    unlink(addr.sun_path);
    return nvu_throw_errno(env, e, "listen");
  }
  return nvu_int(env, fd);
}

/* checkListenFd(fd): throws unless fd is a listening AF_UNIX SOCK_STREAM socket; makes it non-blocking + CLOEXEC. */
static napi_value check_listen_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (!nvu_get_int(env, argv[0], &fd, "fd")) return NULL;
  int v;
  socklen_t l = sizeof v;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l) < 0)
    return nvu_throw_errno(env, errno, "getsockopt(SO_DOMAIN)");
  if (v != AF_UNIX) return nvu_throw_errno(env, EAFNOSUPPORT, "inherited fd is not an AF_UNIX socket");
  l = sizeof v;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l) < 0)
    return nvu_throw_errno(env, errno, "getsockopt(SO_TYPE)");
  if (v != SOCK_STREAM) return nvu_throw_errno(env, ESOCKTNOSUPPORT, "inherited fd is not a SOCK_STREAM socket");
  l = sizeof v;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) < 0)
    return nvu_throw_errno(env, errno, "getsockopt(SO_ACCEPTCONN)");
  if (!v) return nvu_throw_errno(env, EINVAL, "inherited fd is not listening");
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
    return nvu_throw_errno(env, errno, "fcntl");
  return nvu_undefined(env);
}

/* acceptFd(fd) → new fd, or -1 when no connection is waiting. */
static napi_value accept_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (!nvu_get_int(env, argv[0], &fd, "fd")) return NULL;
  for (;;) {
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0) return nvu_int(env, c);
    if (errno == EINTR) continue;
    /* A connection that died in the backlog is not the listener's problem. */
    if (errno == ECONNABORTED || errno == EPROTO) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return nvu_int(env, -1);
    return nvu_throw_errno(env, errno, "accept4");
  }
}

/* connectPath(path) → fd (blocking connect, which is bounded for unix sockets; then O_NONBLOCK). */
static napi_value connect_path(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct sockaddr_un addr;
  if (!make_addr(env, argv[0], &addr)) return NULL;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return nvu_throw_errno(env, errno, "socket");
  int rc;
  do rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  while (rc < 0 && errno == EINTR);
  int fl = rc < 0 ? -1 : fcntl(fd, F_GETFL);
  if (rc < 0 || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    int e = errno;
    close(fd);
    return nvu_throw_errno(env, e, rc < 0 ? "connect" : "fcntl");
  }
  return nvu_int(env, fd);
}

/* probePath(path) → 'live' (someone listens), 'stale' (socket file, nobody listens), 'absent', 'other' (not a socket). */
static napi_value probe_path(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct sockaddr_un addr;
  if (!make_addr(env, argv[0], &addr)) return NULL;
  const char *verdict;
  struct stat st;
  if (lstat(addr.sun_path, &st) < 0) {
    if (errno != ENOENT) return nvu_throw_errno(env, errno, "lstat");
    verdict = "absent";
  } else if (!S_ISSOCK(st.st_mode)) {
    verdict = "other";
  } else {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return nvu_throw_errno(env, errno, "socket");
    int rc;
    do rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    while (rc < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS) verdict = "live"; /* EAGAIN: backlog full */
    else if (e == ECONNREFUSED) verdict = "stale";
    else if (e == ENOENT) verdict = "absent";
    else return nvu_throw_errno(env, e, "connect (probe)");
  }
  napi_create_string_utf8(env, verdict, NAPI_AUTO_LENGTH, &r);
  return r;
}

static void on_watch(uv_poll_t *p, int status, int events) {
  (void)events;
  nvu_handle *h = p->data;
  if (!h->env || h->closing) return;
  napi_handle_scope scope;
  napi_open_handle_scope(h->env, &scope);
  napi_value argv[1];
  if (status < 0) argv[0] = nvu_errno_error(h->env, -status, "poll");
  else napi_get_undefined(h->env, &argv[0]);
  if (status < 0) uv_poll_stop(p);
  nvu_handle_call(h, 1, argv);
  napi_close_handle_scope(h->env, scope);
}

/* watchReadable(fd, cb) → handle: cb(error?) each time fd is readable (level-triggered). Does not own fd. */
static napi_value watch_readable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  if (!nvu_get_int(env, argv[0], &fd, "fd")) return NULL;
  nvu_handle *h = calloc(1, sizeof *h);
  if (!h) return nvu_throw_errno(env, ENOMEM, "calloc");
  if (!nvu_handle_init(env, h, fd, argv[1], "nvgrace-user:watch")) {
    free(h);
    return NULL;
  }
  int rc = uv_poll_start(&h->poll, UV_READABLE, on_watch);
  if (rc < 0) {
    nvu_handle_close(h);
    return nvu_throw_errno(env, -rc, "uv_poll_start");
  }
  return nvu_handle_wrap(env, h);
}

/* handleRef(handle, on): whether this handle keeps the event loop alive. */
static napi_value handle_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nvu_handle *h = nvu_handle_from(env, argv[0]);
  if (!h) return NULL;
  bool on = false;
  napi_get_value_bool(env, argv[1], &on);
  if (!h->closing) {
    if (on) uv_ref((uv_handle_t *)&h->poll);
    else uv_unref((uv_handle_t *)&h->poll);
  }
  return nvu_undefined(env);
}

napi_value nvu_init_listen(napi_env env, napi_value exports) {
  nvu_export(env, exports, "listenPath", listen_path);
  nvu_export(env, exports, "checkListenFd", check_listen_fd);
  nvu_export(env, exports, "acceptFd", accept_fd);
  nvu_export(env, exports, "connectPath", connect_path);
  nvu_export(env, exports, "probePath", probe_path);
  nvu_export(env, exports, "watchReadable", watch_readable);
  nvu_export(env, exports, "handleRef", handle_ref);
  return exports;
}
