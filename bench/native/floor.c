/*
 * nvgrace-bench-floor: the machine's floor for a vfio-user round trip — a plain C responder
 * with no protocol logic beyond framing, one blocking client at a time (then the next).
 * `nvgrace-bench-floor SOCKET`
 *
 * Answers VERSION (0.0, fixed capabilities), DEVICE_GET_INFO (9 regions, 5 IRQs),
 * DEVICE_GET_REGION_INFO (every region 16 MiB, read/write), REGION_READ (zeros from a static
 * buffer), REGION_WRITE (data dropped); every other command a header-only EINVAL; No_reply
 * honoured. Each reply is one sendmsg. Exits 0 on SIGTERM/SIGINT, removing its socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "wire.h"

#define MAX_MSG (VFU_HEADER + VFU_REGION_ACCESS + VFU_MAX_DATA_XFER)
#define REGION_SIZE (16u << 20)

static const char *g_path;
static uint8_t g_msg[MAX_MSG];
static uint8_t g_zeros[VFU_MAX_DATA_XFER];

static void on_signal(int sig) {
  (void)sig;
  unlink(g_path);
  _exit(0);
}

/* false: the client went away (or sent garbage): drop it. */
static bool recv_exact(int fd, uint8_t *dst, size_t len) {
  size_t have = 0;
  while (have < len) {
    ssize_t k = recv(fd, dst + have, len - have, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    have += (size_t)k;
  }
  return true;
}

static bool send_iov(int fd, struct iovec *iov, int n) {
  while (n > 0) {
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
    ssize_t k = sendmsg(fd, &m, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return false;
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
  return true;
}

static bool reply(int fd, uint16_t id, uint16_t cmd, const void *body, uint32_t blen,
                  const void *data, uint32_t dlen) {
  uint8_t h[VFU_HEADER];
  nvb_header(h, id, cmd, VFU_HEADER + blen + dlen, VFU_FLAG_TYPE_REPLY, 0);
  struct iovec iov[3] = {{h, sizeof h}, {(void *)body, blen}, {(void *)data, dlen}};
  return send_iov(fd, iov, dlen ? 3 : blen ? 2 : 1);
}

static bool error_reply(int fd, uint16_t id, uint16_t cmd) {
  uint8_t h[VFU_HEADER];
  nvb_header(h, id, cmd, VFU_HEADER, VFU_FLAG_TYPE_REPLY | VFU_FLAG_ERROR, 22 /* EINVAL */);
  struct iovec iov = {h, sizeof h};
  return send_iov(fd, &iov, 1);
}

static bool handle(int fd, uint32_t size) {
  static const char caps[] =
      "{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576,\"pgsizes\":4096}}";
  uint16_t id = nvb_u16(g_msg), cmd = nvb_u16(g_msg + 2);
  uint32_t flags = nvb_u32(g_msg + 8);
  const uint8_t *body = g_msg + VFU_HEADER;
  uint32_t blen = size - VFU_HEADER;
  if (flags & VFU_FLAG_NO_REPLY) return true;
  if ((cmd == VFU_CMD_REGION_READ || cmd == VFU_CMD_REGION_WRITE) && blen >= VFU_REGION_ACCESS) {
    uint32_t count = nvb_u32(body + 12);
    bool rd = cmd == VFU_CMD_REGION_READ;
    if (count > VFU_MAX_DATA_XFER || blen != VFU_REGION_ACCESS + (rd ? 0 : count))
      return error_reply(fd, id, cmd);
    return reply(fd, id, cmd, body, VFU_REGION_ACCESS, g_zeros, rd ? count : 0);
  }
  if (cmd == VFU_CMD_VERSION && blen >= 4) {
    uint8_t v[4 + sizeof caps] = {0};
    memcpy(v + 4, caps, sizeof caps);
    return reply(fd, id, cmd, v, sizeof v, NULL, 0);
  }
  if (cmd == VFU_CMD_DEVICE_GET_INFO && blen == VFU_DEVICE_INFO) {
    uint8_t v[VFU_DEVICE_INFO];
    nvb_put32(v, VFU_DEVICE_INFO);
    nvb_put32(v + 4, 3); /* PCI | RESET */
    nvb_put32(v + 8, 9);
    nvb_put32(v + 12, 5);
    return reply(fd, id, cmd, v, sizeof v, NULL, 0);
  }
  if (cmd == VFU_CMD_DEVICE_GET_REGION_INFO && blen >= VFU_REGION_INFO) {
    uint8_t v[VFU_REGION_INFO] = {0};
    uint32_t index = nvb_u32(body + 8);
    nvb_put32(v, VFU_REGION_INFO);
    nvb_put32(v + 4, VFU_REGION_FLAG_READ | VFU_REGION_FLAG_WRITE);
    nvb_put32(v + 8, index);
    nvb_put64(v + 16, REGION_SIZE);
    nvb_put64(v + 24, (uint64_t)index << 40);
    return reply(fd, id, cmd, v, sizeof v, NULL, 0);
  }
  return error_reply(fd, id, cmd);
}

static void serve(int fd) {
  for (;;) {
    if (!recv_exact(fd, g_msg, VFU_HEADER)) return;
    uint32_t size = nvb_u32(g_msg + 4);
    if (size < VFU_HEADER || size > MAX_MSG) return;
    if (!recv_exact(fd, g_msg + VFU_HEADER, size - VFU_HEADER)) return;
    if (!handle(fd, size)) return;
  }
}

int main(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: nvgrace-bench-floor SOCKET\n");
    return 2;
  }
  g_path = argv[1];
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(g_path) >= sizeof sa.sun_path) {
    fprintf(stderr, "nvgrace-bench-floor: socket path too long\n");
    return 2;
  }
  strcpy(sa.sun_path, g_path);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4) < 0) {
    perror("nvgrace-bench-floor: listen");
    return 1;
  }
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR) continue;
      perror("nvgrace-bench-floor: accept");
      return 1;
    }
    serve(fd);
    close(fd);
  }
}
