/*
 * nvgrace-bench-client: a vfio-user benchmark client in C, so that the client is never what
 * limits a measurement. It connects to every target given, negotiates VERSION, checks
 * DEVICE_GET_INFO and DEVICE_GET_REGION_INFO of the region it will use, then times one
 * operation back to back in windows, interleaved across targets (a, b, c, a, b, c, …) so
 * slow drift of a shared machine hits all alike. Prints one JSON line:
 *   {"op":…,"count":…,"targets":[{"name":…,"reps":[ops/s…],"p50":µs,"p99":µs,"ops":timed ops,
 *    "allOps":ops including warm-up}]}
 *
 * Usage: nvgrace-bench-client --op read|write|posted --count N [--batch B] [--reps R]
 *          [--window-ms W | --ops N] [--prefill] [--linger-ms L] NAME=SOCKET,REGION,OFFSET …
 * Before timing, each target gets Memory Space Enable set in its command register (what a
 * guest driver does before touching a BAR; BAR0 needs it); --prefill first writes the bytes
 * a read op will read (so it reads written memory, not a hole). --ops N makes every window
 * (warm-up included) exactly N operations instead of W ms: a fixed amount of work, for
 * instruction counts (valgrind --tool=callgrind on the server). --linger-ms L keeps the
 * connections open, idle, for L ms after the results are printed (idle-CPU measurements).
 * read: one REGION_READ of N bytes per op; write: one REGION_WRITE of N bytes; posted: B
 * REGION_WRITEs of N bytes with No_reply, then one 4-byte REGION_READ that flushes them (an
 * op counts B writes; latency is per write). Every reply is validated (id, command, reply
 * type, no error, size, echoed offset/region/count); any mismatch, error or stray reply to a
 * posted write exits 1 with a message naming the target. Exit 2 on a usage error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define MAX_TARGETS 8
#define REPLY_CAP (VFU_HEADER + VFU_REGION_ACCESS + VFU_MAX_DATA_XFER + 4096)
#define CONNECT_WAIT_MS 15000

typedef struct {
  const char *name;
  const char *path;
  uint32_t region;
  uint64_t offset;
  int fd;
  uint16_t id;
  double *lat; /* per-op latency, µs */
  size_t nlat, caplat;
  double reps[64];
  int nreps;
  long all_ops; /* every op, warm-up included */
} target_t;

static const char *g_op = "read";
static uint32_t g_count = 4;
static int g_batch = 256;
static bool g_prefill = false;
static int g_reps = 7;
static double g_window_ms = 300;
static long g_ops = 0; /* > 0: each window is exactly this many ops (for instruction counts) */
static long g_linger_ms = 0; /* stay connected (idle) this long after printing the results */
static uint8_t *g_reply;
static uint8_t *g_data;

static void die(const target_t *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "nvgrace-bench-client: %s: ", t ? t->name : "setup");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void usage(void) {
  fprintf(stderr,
          "usage: nvgrace-bench-client --op read|write|posted --count N [--batch B] [--reps R]\n"
          "         [--window-ms W | --ops N] [--prefill] [--linger-ms L] NAME=SOCKET,REGION,OFFSET ...\n");
  exit(2);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void send_all(target_t *t, struct iovec *iov, int n) {
  while (n > 0) {
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t k = sendmsg(t->fd, &m, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      die(t, "sendmsg: %s", strerror(errno));
    }
    while (n > 0 && (size_t)k >= iov->iov_len) {
      k -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + k;
      iov->iov_len -= (size_t)k;
    }
  }
}

/* false only if `soft` and the server hung up before the first byte (see attach()). */
static bool recv_exact(target_t *t, uint8_t *dst, size_t len, bool soft) {
  size_t have = 0;
  while (have < len) {
    ssize_t k = recv(t->fd, dst + have, len - have, 0);
    if (k < 0 && errno == EINTR) continue;
    if (soft && have == 0 && (k == 0 || errno == ECONNRESET)) return false;
    if (k == 0) die(t, "server hung up");
    if (k < 0) die(t, "recv: %s", strerror(errno));
    have += (size_t)k;
  }
  return true;
}

/* Receives one reply into g_reply and checks the header; returns its size (0: `soft` and the
 * server hung up or said EBUSY). */
static uint32_t recv_reply_soft(target_t *t, uint16_t id, uint16_t cmd, bool soft) {
  if (!recv_exact(t, g_reply, VFU_HEADER, soft)) return 0;
  uint32_t size = nvb_u32(g_reply + 4);
  uint32_t flags = nvb_u32(g_reply + 8);
  if (size < VFU_HEADER || size > REPLY_CAP) die(t, "reply size %u out of range", size);
  recv_exact(t, g_reply + VFU_HEADER, size - VFU_HEADER, false);
  if (nvb_u16(g_reply) != id || nvb_u16(g_reply + 2) != cmd)
    die(t, "reply id %u command %u, expected id %u command %u", nvb_u16(g_reply),
        nvb_u16(g_reply + 2), id, cmd);
  if ((flags & VFU_FLAG_TYPE_MASK) != VFU_FLAG_TYPE_REPLY) die(t, "flags 0x%x: not a reply", flags);
  if ((flags & VFU_FLAG_ERROR) && soft && nvb_u32(g_reply + 12) == 16 /* EBUSY */) return 0;
  if (flags & VFU_FLAG_ERROR) die(t, "command %u failed: errno %u", cmd, nvb_u32(g_reply + 12));
  return size;
}

static uint32_t recv_reply(target_t *t, uint16_t id, uint16_t cmd) {
  return recv_reply_soft(t, id, cmd, false);
}

static void connect_target(target_t *t) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(t->path) >= sizeof sa.sun_path) die(t, "socket path too long");
  strcpy(sa.sun_path, t->path);
  double deadline = now_us() + CONNECT_WAIT_MS * 1000.0;
  for (;;) {
    t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (t->fd < 0) die(t, "socket: %s", strerror(errno));
    if (connect(t->fd, (struct sockaddr *)&sa, sizeof sa) == 0) return;
    int e = errno;
    close(t->fd);
    if ((e != ENOENT && e != ECONNREFUSED) || now_us() > deadline)
      die(t, "connect %s: %s", t->path, strerror(e));
    usleep(2000);
  }
}

static void do_read(target_t *t, uint64_t offset, uint32_t count);
static void send_write(target_t *t, uint64_t offset, uint32_t count, bool posted);

/*
 * Connects and negotiates VERSION. A server that serves one client at a time may still be
 * detaching the previous benchmark client and refuse this one (it hangs up, or answers
 * VERSION with EBUSY): then reconnect, until CONNECT_WAIT_MS.
 */
static void attach(target_t *t) {
  static const char caps[] =
      "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576}}";
  uint8_t msg[VFU_HEADER + 4 + sizeof caps];
  double deadline = now_us() + CONNECT_WAIT_MS * 1000.0;
  uint32_t size;
  uint16_t id;
  for (;;) {
    connect_target(t);
    id = ++t->id;
    nvb_header(msg, id, VFU_CMD_VERSION, sizeof msg, VFU_FLAG_TYPE_COMMAND, 0);
    nvb_put16(msg + VFU_HEADER, 0);     /* major */
    nvb_put16(msg + VFU_HEADER + 2, 1); /* minor */
    memcpy(msg + VFU_HEADER + 4, caps, sizeof caps);
    struct iovec iov = {msg, sizeof msg};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t k = sendmsg(t->fd, &m, MSG_NOSIGNAL);
    if (k == (ssize_t)sizeof msg && (size = recv_reply_soft(t, id, VFU_CMD_VERSION, true)) > 0)
      break;
    if (k >= 0 && k != (ssize_t)sizeof msg) die(t, "VERSION sent in part");
    close(t->fd);
    if (now_us() > deadline) die(t, "refused every connection for %d ms", CONNECT_WAIT_MS);
    usleep(5000);
  }
  if (size < VFU_HEADER + 4 || nvb_u16(g_reply + VFU_HEADER) != 0)
    die(t, "VERSION reply: size %u, major %u", size, nvb_u16(g_reply + VFU_HEADER));

  uint8_t info[VFU_HEADER + VFU_DEVICE_INFO] = {0};
  id = ++t->id;
  nvb_header(info, id, VFU_CMD_DEVICE_GET_INFO, sizeof info, VFU_FLAG_TYPE_COMMAND, 0);
  nvb_put32(info + VFU_HEADER, VFU_DEVICE_INFO);
  struct iovec iov = {info, sizeof info};
  send_all(t, &iov, 1);
  size = recv_reply(t, id, VFU_CMD_DEVICE_GET_INFO);
  if (size < VFU_HEADER + VFU_DEVICE_INFO) die(t, "DEVICE_GET_INFO reply too short (%u)", size);
  uint32_t regions = nvb_u32(g_reply + VFU_HEADER + 8);
  if (t->region >= regions) die(t, "region %u: the device has %u regions", t->region, regions);

  uint8_t ri[VFU_HEADER + VFU_REGION_INFO] = {0};
  id = ++t->id;
  nvb_header(ri, id, VFU_CMD_DEVICE_GET_REGION_INFO, sizeof ri, VFU_FLAG_TYPE_COMMAND, 0);
  nvb_put32(ri + VFU_HEADER, VFU_REGION_INFO);
  nvb_put32(ri + VFU_HEADER + 8, t->region);
  iov = (struct iovec){ri, sizeof ri};
  send_all(t, &iov, 1);
  size = recv_reply(t, id, VFU_CMD_DEVICE_GET_REGION_INFO);
  if (size < VFU_HEADER + VFU_REGION_INFO) die(t, "GET_REGION_INFO reply too short (%u)", size);
  const uint8_t *p = g_reply + VFU_HEADER;
  uint32_t rflags = nvb_u32(p + 4);
  uint64_t rsize = nvb_u64(p + 16);
  if (nvb_u32(p + 8) != t->region) die(t, "GET_REGION_INFO answered for region %u", nvb_u32(p + 8));
  uint64_t span = g_op[0] == 'p' ? 16ull * g_count : g_count; /* posted: 16 slots */
  if (t->offset + span > rsize)
    die(t, "region %u is %llu bytes: no room for %llu at 0x%llx", t->region,
        (unsigned long long)rsize, (unsigned long long)span, (unsigned long long)t->offset);
  uint32_t need = strcmp(g_op, "read") == 0 ? VFU_REGION_FLAG_READ
                                            : VFU_REGION_FLAG_READ | VFU_REGION_FLAG_WRITE;
  if ((rflags & need) != need) die(t, "region %u flags 0x%x lack 0x%x", t->region, rflags, need);
}

/* What a guest driver does before touching a BAR: set Memory Space Enable (PCI_COMMAND bit 1). */
static void enable_memory(target_t *t) {
  target_t cfg = *t;
  cfg.region = 7; /* VFIO_PCI_CONFIG_REGION_INDEX */
  do_read(&cfg, 4, 2);
  uint16_t cmd = nvb_u16(g_reply + VFU_HEADER + VFU_REGION_ACCESS) | 0x2;
  memcpy(g_data, &cmd, 2);
  send_write(&cfg, 4, 2, false);
  t->id = cfg.id;
}

static void put_access(uint8_t *p, const target_t *t, uint64_t offset, uint32_t count) {
  nvb_put64(p, offset);
  nvb_put32(p + 8, t->region);
  nvb_put32(p + 12, count);
}

static void check_access(target_t *t, uint32_t size, uint64_t offset, uint32_t count,
                         uint32_t data) {
  if (size != VFU_HEADER + VFU_REGION_ACCESS + data)
    die(t, "reply size %u, expected %u", size, VFU_HEADER + VFU_REGION_ACCESS + data);
  const uint8_t *p = g_reply + VFU_HEADER;
  if (nvb_u64(p) != offset || nvb_u32(p + 8) != t->region || nvb_u32(p + 12) != count)
    die(t, "reply echoes offset 0x%llx region %u count %u, expected 0x%llx %u %u",
        (unsigned long long)nvb_u64(p), nvb_u32(p + 8), nvb_u32(p + 12),
        (unsigned long long)offset, t->region, count);
}

static void do_read(target_t *t, uint64_t offset, uint32_t count) {
  uint8_t msg[VFU_HEADER + VFU_REGION_ACCESS];
  uint16_t id = ++t->id;
  nvb_header(msg, id, VFU_CMD_REGION_READ, sizeof msg, VFU_FLAG_TYPE_COMMAND, 0);
  put_access(msg + VFU_HEADER, t, offset, count);
  struct iovec iov = {msg, sizeof msg};
  send_all(t, &iov, 1);
  check_access(t, recv_reply(t, id, VFU_CMD_REGION_READ), offset, count, count);
}

static void send_write(target_t *t, uint64_t offset, uint32_t count, bool posted) {
  uint8_t msg[VFU_HEADER + VFU_REGION_ACCESS];
  uint16_t id = ++t->id;
  nvb_header(msg, id, VFU_CMD_REGION_WRITE, sizeof msg + count,
             VFU_FLAG_TYPE_COMMAND | (posted ? VFU_FLAG_NO_REPLY : 0), 0);
  put_access(msg + VFU_HEADER, t, offset, count);
  struct iovec iov[2] = {{msg, sizeof msg}, {g_data, count}};
  send_all(t, iov, 2);
  if (!posted) check_access(t, recv_reply(t, id, VFU_CMD_REGION_WRITE), offset, count, 0);
}

/* One timed operation; returns how many operations it stands for. */
static int one_op(target_t *t) {
  if (g_op[0] == 'r') {
    do_read(t, t->offset, g_count);
    return 1;
  }
  if (g_op[0] == 'w') {
    send_write(t, t->offset, g_count, false);
    return 1;
  }
  for (int i = 0; i < g_batch; i++) send_write(t, t->offset + g_count * (uint64_t)(i & 15), g_count, true);
  /* The flushing read: a reply to any posted write would arrive first and fail its check. */
  do_read(t, t->offset, 4);
  return g_batch;
}

static void record(target_t *t, double v) {
  if (t->nlat == t->caplat) {
    t->caplat = t->caplat ? t->caplat * 2 : 1 << 16;
    t->lat = realloc(t->lat, t->caplat * sizeof *t->lat);
    if (!t->lat) die(t, "out of memory");
  }
  t->lat[t->nlat++] = v;
}

/* Runs one window; returns operations per second. */
static double run_window(target_t *t, double ms, bool timed) {
  double t0 = now_us(), end = t0 + ms * 1000.0, t1 = t0;
  double ops = 0;
  while (g_ops > 0 ? ops < (double)g_ops : t1 < end) {
    int k = one_op(t);
    double t2 = now_us();
    if (timed) record(t, (t2 - t1) / k);
    ops += k;
    t->all_ops += k;
    t1 = t2;
  }
  return ops / ((t1 - t0) / 1e6);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p) {
  if (n == 0) return 0;
  size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return v[rank - 1];
}

static void parse_target(const char *arg, target_t *t) {
  char *copy = strdup(arg);
  char *eq = strchr(copy, '=');
  if (!eq) usage();
  *eq = 0;
  t->name = copy;
  char *path = eq + 1;
  char *c1 = strrchr(path, ',');
  if (!c1) usage();
  *c1 = 0;
  char *c2 = strrchr(path, ',');
  if (!c2) usage();
  *c2 = 0;
  t->path = path;
  char *end;
  t->region = (uint32_t)strtoul(c2 + 1, &end, 0);
  if (*end) usage();
  t->offset = strtoull(c1 + 1, &end, 0);
  if (*end) usage();
  for (const char *q = t->name; *q; q++)
    if (*q == '"' || *q == '\\' || (unsigned char)*q < 0x20) usage();
}

int main(int argc, char **argv) {
  target_t targets[MAX_TARGETS] = {0};
  int n = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0) usage();
    else if (strcmp(a, "--op") == 0 && v) g_op = v, i++;
    else if (strcmp(a, "--prefill") == 0) g_prefill = true;
    else if (strcmp(a, "--count") == 0 && v) g_count = (uint32_t)strtoul(v, NULL, 0), i++;
    else if (strcmp(a, "--batch") == 0 && v) g_batch = atoi(v), i++;
    else if (strcmp(a, "--reps") == 0 && v) g_reps = atoi(v), i++;
    else if (strcmp(a, "--window-ms") == 0 && v) g_window_ms = atof(v), i++;
    else if (strcmp(a, "--ops") == 0 && v) g_ops = atol(v), i++;
    else if (strcmp(a, "--linger-ms") == 0 && v) g_linger_ms = atol(v), i++;
    else if (a[0] == '-') usage();
    else if (n < MAX_TARGETS) parse_target(a, &targets[n++]);
    else usage();
  }
  bool op_ok = strcmp(g_op, "read") == 0 || strcmp(g_op, "write") == 0 || strcmp(g_op, "posted") == 0;
  if (!op_ok || n == 0 || g_count == 0 || g_count > VFU_MAX_DATA_XFER || g_batch < 1 ||
      g_reps < 1 || g_reps > 64 || g_window_ms <= 0)
    usage();
  g_reply = malloc(REPLY_CAP);
  g_data = malloc(VFU_MAX_DATA_XFER);
  if (!g_reply || !g_data) die(NULL, "out of memory");
  for (uint32_t i = 0; i < VFU_MAX_DATA_XFER; i++) g_data[i] = (uint8_t)(i * 131 + 7);
  for (int i = 0; i < n; i++) {
    attach(&targets[i]);
    enable_memory(&targets[i]);
    if (g_prefill) send_write(&targets[i], targets[i].offset, g_count, false);
  }
  double warm = g_window_ms / 2 < 50 ? 50 : g_window_ms / 2;
  for (int i = 0; i < n; i++) run_window(&targets[i], warm, false);
  for (int r = 0; r < g_reps; r++)
    for (int i = 0; i < n; i++) targets[i].reps[targets[i].nreps++] = run_window(&targets[i], g_window_ms, true);
  printf("{\"op\":\"%s\",\"count\":%u,\"batch\":%d,\"targets\":[", g_op, g_count,
         g_op[0] == 'p' ? g_batch : 1);
  for (int i = 0; i < n; i++) {
    target_t *t = &targets[i];
    qsort(t->lat, t->nlat, sizeof *t->lat, cmp_double);
    printf("%s{\"name\":\"%s\",\"reps\":[", i ? "," : "", t->name);
    for (int r = 0; r < t->nreps; r++) printf("%s%.1f", r ? "," : "", t->reps[r]);
    printf("],\"p50\":%.2f,\"p99\":%.2f,\"ops\":%zu,\"allOps\":%ld}", pct(t->lat, t->nlat, 50),
           pct(t->lat, t->nlat, 99), t->nlat, t->all_ops);
  }
  printf("]}\n");
  fflush(stdout);
  /* Connected and idle: what does a server cost while its VMM does nothing? */
  if (g_linger_ms > 0) usleep((useconds_t)g_linger_ms * 1000);
  for (int i = 0; i < n; i++) close(targets[i].fd);
  return 0;
}
