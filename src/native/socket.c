/*
 * A connected AF_UNIX stream socket driven by a uv_poll_t: reads drained with recvmsg until
 * EAGAIN, each recvmsg delivered to JS with the SCM_RIGHTS fds that came with it; writes with
 * non-blocking sendmsg (the JS side queues what the kernel did not take).
 *
 * Rules: one delivery per recvmsg, never merged — Linux stops a stream read right after the
 * segment that carried fds, so a delivery's fds belong to the message holding its last byte.
 * MSG_CTRUNC closes the fds that did arrive and reports an error. JS callback:
 * cb(0, chunk | length in readBuffer, fds|undefined) data → bytes of reply placed at the
 * start of replyBuffer (a number, 0 or undefined: none); cb(1) writable; cb(2) peer hung up;
 * cb(3, error); cb(4, sent, total) the reply the data callback returned went out only in part
 * (JS queues replyBuffer[sent, total) before the callback returns); cb(5) nothing (run Node's
 * callback bookkeeping: microtasks and nextTicks).
 *
 * The data callback is called with napi_call_function (no async context, no microtask or
 * nextTick run: that bookkeeping cost as much as the protocol layer per request). Its
 * result carries SETTLED_FLAG when it scheduled nothing; without it, cb(5) follows at once
 * through napi_make_callback, after the reply is sent — replies keep their order.
 *
 * Speed (see bench/, docs/performance.md): one crossing per request. Reads land in a
 * per-socket buffer that JS owns and passed in at open (socketOpen(fd, cb, readBuffer,
 * replyBuffer)); a read that does not fill it is reported as cb(0, length, fds) and JS parses
 * it in place — creating a node Buffer here per read (malloc, an external ArrayBuffer, its
 * prototype) cost more than the whole protocol layer per small request. JS answers by
 * writing the reply into replyBuffer and returning its length: it is sent here, right after
 * the callback, with no second crossing (socketWrite stays for everything else). JS that keeps
 * a view of readBuffer past the callback gives us a new one first (socketSetReadBuffer).
 * When a read fills readBuffer, a bulk
 * transfer is under way: FIONREAD sizes one JS buffer for it and what is queued, and the rest
 * is received straight into it, so a large message reaches JS in one chunk (the framing layer
 * then needs no reassembly copy). The send buffer is raised (best effort, capped by
 * net.core.wmem_max) so a maximal message (1 MiB + headers) can go in one sendmsg instead of
 * a writable-wait ping-pong with the peer.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define READ_BUF (256 * 1024)
#define DIRECT_MAX (8 * 1024 * 1024) /* largest direct read after a full READ_BUF */
#define SEND_BUF (2 * 1024 * 1024)   /* requested SO_SNDBUF (the kernel doubles it) */
#define MAX_RECV_FDS 253 /* SCM_MAX_FD: the most one segment can carry */
#define MAX_SEND_FDS 253
#define MAX_IOV 1024
#define READS_PER_EVENT 64 /* let other handles run; level-triggered poll comes back */
#define SETTLED_FLAG 0x40000000 /* in the data callback's result: it scheduled nothing */

typedef struct {
  nvu_handle h;
  bool reading;
  bool want_write;
  bool done; /* EOF or error reported: no more polling */
  int events;
  char *buf;           /* READ_BUF bytes of the JS readBuffer, kept alive by buf_ref */
  napi_ref buf_ref;
  char *reply;         /* the JS replyBuffer (reply_len bytes), kept alive by reply_ref */
  size_t reply_len;
  napi_ref reply_ref;
  int64_t poll_ns;     /* > 0: after answering, poll this long for the next request */
} sock_t;

static void sock_free_extra(nvu_handle *h) {
  sock_t *s = (sock_t *)h;
  if (s->buf_ref && h->env) napi_delete_reference(h->env, s->buf_ref);
  if (s->reply_ref && h->env) napi_delete_reference(h->env, s->reply_ref);
}

static void on_poll(uv_poll_t *p, int status, int events);

static void update_poll(sock_t *s) {
  if (s->h.closing) return;
  int ev = s->done ? 0 : (s->reading ? UV_READABLE : 0) | (s->want_write ? UV_WRITABLE : 0);
  if (ev == s->events) return;
  s->events = ev;
  if (ev == 0) uv_poll_stop(&s->h.poll);
  else uv_poll_start(&s->h.poll, ev, on_poll);
}

static void report_error(sock_t *s, int err, const char *syscall) {
  s->done = true;
  update_poll(s);
  napi_value argv[2];
  argv[0] = nvu_int(s->h.env, 3);
  argv[1] = nvu_errno_error(s->h.env, err, syscall);
  nvu_handle_call(&s->h, 2, argv);
}

static void report_eof(sock_t *s) {
  s->done = true;
  update_poll(s);
  napi_value argv[1] = {nvu_int(s->h.env, 2)};
  nvu_handle_call(&s->h, 1, argv);
}

static void close_fds(const int *fds, int n) {
  for (int i = 0; i < n; i++) close(fds[i]);
}

/* Why a read stopped: nothing (EAGAIN), EOF, or an error to report (errno + syscall). */
typedef struct {
  int err; /* 0 none/EAGAIN, -1 EOF, > 0 errno */
  const char *syscall;
} stop_t;

static void report_stop(sock_t *s, const stop_t *st) {
  if (st->err < 0) report_eof(s);
  else if (st->err > 0) report_error(s, st->err, st->syscall);
}

/* One recvmsg into dst. Returns bytes (> 0), or -1 with *st saying why it stopped (reported by
 * the caller, so that data read before it is delivered first). */
static ssize_t read_once(sock_t *s, char *dst, size_t cap, int *fds, int *nfds, stop_t *st) {
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_RECV_FDS)];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {dst, cap};
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  st->err = 0;
  st->syscall = "recvmsg";
  *nfds = 0;
  ssize_t n;
  do n = recvmsg(s->h.fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) st->err = errno;
    return -1;
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k && *nfds < MAX_RECV_FDS; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds[(*nfds)++] = fd;
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    close_fds(fds, *nfds);
    *nfds = 0;
    st->err = EMSGSIZE;
    st->syscall = "recvmsg (SCM_RIGHTS truncated: too many fds or fd limit)";
    return -1;
  }
  if (n == 0) {
    close_fds(fds, *nfds);
    *nfds = 0;
    st->err = -1;
    return -1;
  }
  return n;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Poll mode (socketSetPoll, `serve --poll-us`): nothing was queued after a delivery (whose
 * reply JS has sent by now): keep trying for up to poll_ns before going back to sleep in the
 * event loop, as SPDK's vfio-user target does in poll mode. A peer on another CPU then finds
 * us awake instead of paying a wake-up per request. sched_yield() between tries lets a peer
 * on this CPU run. Bounded by READS_PER_EVENT deliveries per event like any drain.
 */
static ssize_t poll_once(sock_t *s, int *fds, int *nfds, stop_t *st) {
  int64_t deadline = now_ns() + s->poll_ns;
  ssize_t n;
  do {
    sched_yield();
    n = read_once(s, s->buf, READ_BUF, fds, nfds, st);
  } while (n < 0 && st->err == 0 && now_ns() < deadline);
  return n;
}

/*
 * The data callback's answer: `r` bytes at the start of replyBuffer, sent now, before the
 * next read (so replies keep the order of requests). What the kernel does not take is handed
 * back to JS (cb(4, sent, r)), which queues it behind nothing else.
 */
static void send_reply(sock_t *s, int32_t r) {
  if (r <= 0 || s->h.closing || s->done) return;
  if ((size_t)r > s->reply_len) return report_error(s, EINVAL, "reply (longer than replyBuffer)");
  ssize_t n;
  do n = send(s->h.fd, s->reply, (size_t)r, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK) return report_error(s, errno, "sendmsg");
    n = 0;
  }
  if (n == r) return;
  napi_value argv[3];
  argv[0] = nvu_int(s->h.env, 4);
  argv[1] = nvu_int(s->h.env, n);
  argv[2] = nvu_int(s->h.env, r);
  nvu_handle_call(&s->h, 3, argv);
}

/*
 * After a settled answer (no callback in this drain scheduled anything), wait here for the
 * client's next request instead of going round the event loop for it: the epoll_wait the
 * loop itself would make next — on its own epoll set (uv_backend_fd), with its own timeout
 * (uv_backend_timeout: the next timer; 0 when callbacks, immediates or closing handles are
 * pending) — made only when no watcher change is waiting to be applied to that set (the
 * loop's watcher queue is empty, e.g. no write watch started in this iteration) and we are
 * not waiting to write. If our socket is then the only one ready, it is read here; anything
 * else — another client, the control plane, a signal, an error or hang-up on ours — ends the
 * wait and the loop handles it (libuv registers level-triggered, so epoll reports it again).
 * A request then costs no loop iteration (timers, idle, prepare and check phases, Node's
 * per-iteration immediates scope); READS_PER_EVENT bounds it as any drain. The timeout must
 * be the loop's own: a short one would be the earliest timer on the CPU and cost a
 * clock-event reprogramming (in a VM, exits) per request — more than the iteration saved.
 */
static bool wait_next(sock_t *s) {
  if (!s->reading || s->want_write || s->done || s->h.closing) return false;
  uv_loop_t *loop = s->h.poll.loop;
  if (loop->watcher_queue.next != &loop->watcher_queue) return false;
  uv_update_time(loop);
  int t = uv_backend_timeout(loop);
  if (t == 0) return false;
  struct epoll_event ev[2];
  int n;
  do n = epoll_wait(uv_backend_fd(loop), ev, 2, t);
  while (n < 0 && errno == EINTR);
  return n == 1 && ev[0].data.fd == s->h.fd && ev[0].events == EPOLLIN;
}

static void drain(sock_t *s) {
  int fds[MAX_RECV_FDS];
  bool settled = true;
  for (int i = 0; i < READS_PER_EVENT && s->reading && !s->done && !s->h.closing; i++) {
    int nfds = 0;
    stop_t st, st2 = {0, NULL};
    ssize_t n = read_once(s, s->buf, READ_BUF, fds, &nfds, &st);
    if (n < 0 && st.err == 0 && i > 0 && s->poll_ns > 0) n = poll_once(s, fds, &nfds, &st);
    if (n < 0) return report_stop(s, &st);
    napi_env env = s->h.env;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value argv[3];
    void *data;
    int avail = 0;
    if (n == READ_BUF && nfds == 0 && ioctl(s->h.fd, FIONREAD, &avail) == 0 && avail > 0) {
      /* Bulk: one JS buffer for what came plus what is queued; the rest lands straight in it. */
      size_t more = avail > DIRECT_MAX ? DIRECT_MAX : (size_t)avail;
      if (napi_create_buffer(env, READ_BUF + more, &data, &argv[1]) != napi_ok) {
        napi_close_handle_scope(env, scope);
        return report_error(s, ENOMEM, "napi_create_buffer");
      }
      memcpy(data, s->buf, READ_BUF);
      ssize_t m = read_once(s, (char *)data + READ_BUF, more, fds, &nfds, &st2);
      if (m > 0) n += m;
      if ((size_t)n < READ_BUF + more) {
        /* Cut short (an fd boundary, EAGAIN): hand over exactly n bytes. */
        void *copy;
        napi_create_buffer_copy(env, (size_t)n, data, &copy, &argv[1]);
      }
    } else {
      argv[1] = nvu_int(env, (int)n); /* the bytes are in readBuffer[0, n): JS copies them */
    }
    argv[0] = nvu_int(env, 0);
    if (nfds > 0) {
      napi_create_array_with_length(env, (size_t)nfds, &argv[2]);
      for (int k = 0; k < nfds; k++) napi_set_element(env, argv[2], (uint32_t)k, nvu_int(env, fds[k]));
    } else {
      napi_get_undefined(env, &argv[2]);
    }
    napi_value res = nvu_handle_call_bare(&s->h, 3, argv);
    int32_t r = 0;
    if (!res || napi_get_value_int32(env, res, &r) != napi_ok) r = 0;
    send_reply(s, r & ~SETTLED_FLAG);
    if (!(r & SETTLED_FLAG)) settled = false; /* sticky for this drain: see wait_next */
    if (!(r & SETTLED_FLAG) && !s->h.closing) {
      napi_value k = nvu_int(env, 5);
      nvu_handle_call(&s->h, 1, &k);
    }
    napi_close_handle_scope(env, scope);
    if (st2.err != 0) return report_stop(s, &st2); /* after the data that came before it */
    if (n < READ_BUF && nfds == 0 && s->poll_ns == 0) {
      /* Probably drained; one more recvmsg would usually just say EAGAIN. Wait here for the
       * next request, or let the loop decide. */
      if (!settled || !wait_next(s)) return;
    }
  }
}

static void on_poll(uv_poll_t *p, int status, int events) {
  sock_t *s = p->data;
  napi_env env = s->h.env;
  if (!env || s->h.closing) return;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (status < 0) {
    report_error(s, -status, "poll");
  } else {
    if ((events & UV_WRITABLE) && s->want_write && !s->done) {
      napi_value argv[1] = {nvu_int(env, 1)};
      nvu_handle_call(&s->h, 1, argv);
    }
    if ((events & UV_READABLE) && s->reading && !s->done && !s->h.closing) drain(s);
  }
  napi_close_handle_scope(env, scope);
}

/* A Buffer argument of at least `min` bytes (data and length out), or false (thrown). */
static bool get_buffer(napi_env env, napi_value v, size_t min, void **data, size_t *len,
                       const char *what) {
  bool isbuf = false;
  napi_is_buffer(env, v, &isbuf);
  if (!isbuf || napi_get_buffer_info(env, v, data, len) != napi_ok || *len < min) {
    nvu_throw_type(env, what);
    return false;
  }
  return true;
}

/* socketOpen(fd, cb, readBuffer, replyBuffer) → handle. Takes ownership of fd; reading starts
 * at once. readBuffer: a Buffer of at least READ_BUF (256 KiB) bytes, off the V8 heap
 * (Buffer.allocUnsafeSlow), that small reads land in; replyBuffer: a Buffer (off the heap, at
 * least 4 KiB) the data callback writes replies into; both held until the handle is freed. */
static napi_value socket_open(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t fd;
  if (!nvu_get_int(env, argv[0], &fd, "fd")) return NULL;
  void *rbuf = NULL, *pbuf = NULL;
  size_t rlen = 0, plen = 0;
  if (!get_buffer(env, argv[2], READ_BUF, &rbuf, &rlen,
                  "readBuffer must be a Buffer of at least 256 KiB") ||
      !get_buffer(env, argv[3], 4096, &pbuf, &plen,
                  "replyBuffer must be a Buffer of at least 4 KiB"))
    return NULL;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return nvu_throw_errno(env, errno, "fcntl");
  sock_t *s = calloc(1, sizeof *s);
  if (!s) return nvu_throw_errno(env, ENOMEM, "calloc");
  s->h.free_extra = sock_free_extra;
  if (!nvu_handle_init(env, &s->h, fd, argv[1], "nvgrace-user:socket")) {
    free(s);
    return NULL;
  }
  s->h.owns_fd = true;
  s->buf = rbuf;
  napi_create_reference(env, argv[2], 1, &s->buf_ref);
  s->reply = pbuf;
  s->reply_len = plen;
  napi_create_reference(env, argv[3], 1, &s->reply_ref);
  int sndbuf = SEND_BUF;
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf); /* best effort */
  s->reading = true;
  update_poll(s);
  return nvu_handle_wrap(env, &s->h);
}

static bool add_iov(napi_env env, napi_value v, struct iovec *iov, int *n) {
  void *data;
  size_t len;
  bool isbuf = false;
  napi_is_buffer(env, v, &isbuf);
  if (!isbuf || napi_get_buffer_info(env, v, &data, &len) != napi_ok) {
    nvu_throw_type(env, "data must be a Buffer/Uint8Array or an array of them");
    return false;
  }
  if (len == 0) return true;
  iov[*n].iov_base = data;
  iov[*n].iov_len = len;
  (*n)++;
  return true;
}

/* socketWrite(handle, data: Buffer | Buffer[], fds?: number[]) → bytes the kernel took (0 = EAGAIN). */
static napi_value socket_write(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = (sock_t *)nvu_handle_from(env, argv[0]);
  if (!s) return NULL;
  if (s->h.closing) return nvu_throw_errno(env, EBADF, "sendmsg");
  struct iovec iov[MAX_IOV];
  int niov = 0;
  bool isarr = false;
  napi_is_array(env, argv[1], &isarr);
  if (isarr) {
    uint32_t len;
    napi_get_array_length(env, argv[1], &len);
    for (uint32_t i = 0; i < len && niov < MAX_IOV; i++) {
      napi_value el;
      napi_get_element(env, argv[1], i, &el);
      if (!add_iov(env, el, iov, &niov)) return NULL;
    }
  } else if (!add_iov(env, argv[1], iov, &niov)) {
    return NULL;
  }
  if (niov == 0) return nvu_int(env, 0);
  union {
    char buf[CMSG_SPACE(sizeof(int) * MAX_SEND_FDS)];
    struct cmsghdr align;
  } ctl;
  struct msghdr msg = {0};
  msg.msg_iov = iov;
  msg.msg_iovlen = (size_t)niov;
  napi_valuetype t = napi_undefined;
  if (argc >= 3) napi_typeof(env, argv[2], &t);
  if (t != napi_undefined && t != napi_null) {
    uint32_t nfds = 0;
    if (napi_get_array_length(env, argv[2], &nfds) != napi_ok)
      return nvu_throw_type(env, "fds must be an array of integers");
    if (nfds > MAX_SEND_FDS) return nvu_throw_errno(env, EINVAL, "sendmsg (more than 253 fds)");
    if (nfds > 0) {
      memset(&ctl, 0, sizeof ctl);
      msg.msg_control = ctl.buf;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
      struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
      for (uint32_t i = 0; i < nfds; i++) {
        napi_value el;
        int32_t fd;
        napi_get_element(env, argv[2], i, &el);
        if (!nvu_get_int(env, el, &fd, "fd")) return NULL;
        memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof fd);
      }
    }
  }
  ssize_t n;
  do n = sendmsg(s->h.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return nvu_int(env, 0);
    return nvu_throw_errno(env, errno, "sendmsg");
  }
  return nvu_int(env, n);
}

static napi_value set_flag(napi_env env, napi_callback_info info, bool write_flag) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = (sock_t *)nvu_handle_from(env, argv[0]);
  if (!s) return NULL;
  bool on = false;
  napi_get_value_bool(env, argv[1], &on);
  if (write_flag) s->want_write = on;
  else s->reading = on;
  update_poll(s);
  return nvu_undefined(env);
}

/* socketSetReading(handle, on): pause/resume. socketSetWantWrite(handle, on): poll writable. */
static napi_value socket_set_reading(napi_env env, napi_callback_info info) {
  return set_flag(env, info, false);
}
static napi_value socket_set_want_write(napi_env env, napi_callback_info info) {
  return set_flag(env, info, true);
}

/* socketSetPoll(handle, us): poll mode (see poll_once); 0 turns it off. */
static napi_value socket_set_poll(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = (sock_t *)nvu_handle_from(env, argv[0]);
  if (!s) return NULL;
  int32_t us;
  if (!nvu_get_int(env, argv[1], &us, "us")) return NULL;
  if (us < 0 || us > 1000000) return nvu_throw_errno(env, EINVAL, "socketSetPoll (0..1000000 us)");
  s->poll_ns = (int64_t)us * 1000;
  return nvu_undefined(env);
}

/* socketSetReadBuffer(handle, readBuffer): later reads land in this Buffer (≥ 256 KiB, off
 * the heap); JS calls it when it keeps a view of the current one past a data callback. */
static napi_value socket_set_read_buffer(napi_env env, napi_callback_info info) {
  ARGS(2);
  sock_t *s = (sock_t *)nvu_handle_from(env, argv[0]);
  if (!s) return NULL;
  void *rbuf = NULL;
  size_t rlen = 0;
  if (!get_buffer(env, argv[1], READ_BUF, &rbuf, &rlen,
                  "readBuffer must be a Buffer of at least 256 KiB"))
    return NULL;
  napi_ref ref;
  NAPI_CALL(env, napi_create_reference(env, argv[1], 1, &ref));
  if (s->buf_ref) napi_delete_reference(env, s->buf_ref);
  s->buf_ref = ref;
  s->buf = rbuf;
  return nvu_undefined(env);
}

/* socketPeerGone(handle) → true when the peer has hung up or the socket failed (POLLRDHUP,
 * POLLHUP, POLLERR pending), even if unread data is still queued in front of the EOF. Asks
 * the kernel directly, so it knows before the event loop has delivered the EOF. */
static napi_value socket_peer_gone(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], r;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = (sock_t *)nvu_handle_from(env, argv[0]);
  if (!s) return NULL;
  bool gone = s->done || s->h.closing;
  if (!gone) {
    struct pollfd p = {s->h.fd, POLLIN | POLLRDHUP, 0};
    int rc;
    do rc = poll(&p, 1, 0);
    while (rc < 0 && errno == EINTR);
    gone = rc > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }
  napi_get_boolean(env, gone, &r);
  return r;
}

/* handleClose(handle): stop polling and close the fd (if owned). Idempotent. */
static napi_value handle_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nvu_handle *h = nvu_handle_from(env, argv[0]);
  if (!h) return NULL;
  nvu_handle_close(h);
  return nvu_undefined(env);
}

napi_value nvu_init_socket(napi_env env, napi_value exports) {
  nvu_export(env, exports, "socketOpen", socket_open);
  nvu_export(env, exports, "socketWrite", socket_write);
  nvu_export(env, exports, "socketSetReading", socket_set_reading);
  nvu_export(env, exports, "socketSetWantWrite", socket_set_want_write);
  nvu_export(env, exports, "socketPeerGone", socket_peer_gone);
  nvu_export(env, exports, "socketSetPoll", socket_set_poll);
  nvu_export(env, exports, "socketSetReadBuffer", socket_set_read_buffer);
  nvu_export(env, exports, "handleClose", handle_close);
  return exports;
}
