/*
 * Shared helpers for the nvgrace-user native addon: argument parsing, errno errors, and the
 * per-env list of libuv poll handles (so env teardown can stop them).
 *
 * Rules: every syscall failure becomes a JS Error with `code` (errno name), `errno` and
 * `syscall`; nothing here blocks except connect() on a unix socket (bounded by the kernel).
 */
#ifndef NVU_COMMON_H
#define NVU_COMMON_H

#define NAPI_VERSION 8
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <node_api.h>
#include <stdint.h>
#include <stdbool.h>
#include <uv.h>

#define NAPI_CALL(env, call)                                                                      \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      nvu_throw_napi(env, #call);                                                                  \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

/* Fetch up to n callback arguments into argv[]; missing ones read as undefined. */
#define ARGS(n)                                                                                    \
  size_t argc = n;                                                                                 \
  napi_value argv[n];                                                                              \
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));                            \
  for (size_t i_ = argc; i_ < n; i_++) napi_get_undefined(env, &argv[i_])

/* A poll handle owned by the addon; `kind` tells the teardown what else to release. */
typedef struct nvu_handle {
  uv_poll_t poll;
  napi_env env;
  struct nvu_handle *prev, *next;
  int fd;
  bool owns_fd;
  bool closing;
  napi_ref cb;
  napi_async_context actx;
  void (*free_extra)(struct nvu_handle *h);
} nvu_handle;

void nvu_throw_napi(napi_env env, const char *what);
/* Throws an Error for errno `err` from `syscall`; returns NULL for convenient `return`. */
napi_value nvu_throw_errno(napi_env env, int err, const char *syscall);
napi_value nvu_throw_type(napi_env env, const char *msg);
napi_value nvu_errno_error(napi_env env, int err, const char *syscall);

bool nvu_get_int(napi_env env, napi_value v, int32_t *out, const char *what);
/* Accepts a number or a bigint; must be a non-negative safe integer. */
bool nvu_get_u64(napi_env env, napi_value v, uint64_t *out, const char *what);
/* Reads a UTF-8 string into a malloc'd buffer (caller frees). */
char *nvu_get_string(napi_env env, napi_value v, const char *what);
napi_value nvu_int(napi_env env, int64_t v);
napi_value nvu_undefined(napi_env env);

/* Handle lifecycle: register on creation, nvu_handle_close() to stop + close (idempotent). */
void nvu_handle_register(nvu_handle *h);
void nvu_handle_close(nvu_handle *h);
/* Calls the handle's JS callback with argv through napi_make_callback (microtasks drain);
 * returns what it returned (NULL when it threw: the exception went to 'uncaughtException'). */
napi_value nvu_handle_call(nvu_handle *h, size_t argc, napi_value *argv);
/* The same through napi_call_function: no async context, no microtask or nextTick
 * processing afterwards — for callbacks that report having scheduled nothing (socket.c). */
napi_value nvu_handle_call_bare(nvu_handle *h, size_t argc, napi_value *argv);
nvu_handle *nvu_handle_from(napi_env env, napi_value v);
napi_value nvu_handle_wrap(napi_env env, nvu_handle *h);
bool nvu_handle_init(napi_env env, nvu_handle *h, int fd, napi_value cb, const char *name);
/* Per-env handle list (module init): false when out of memory. */
bool nvu_handles_init(napi_env env);

napi_value nvu_init_socket(napi_env env, napi_value exports);
napi_value nvu_init_listen(napi_env env, napi_value exports);
napi_value nvu_init_memory(napi_env env, napi_value exports);
napi_value nvu_init_eventfd(napi_env env, napi_value exports);
napi_value nvu_init_fd(napi_env env, napi_value exports);
napi_value nvu_init_process(napi_env env, napi_value exports);
void nvu_export(napi_env env, napi_value exports, const char *name, napi_callback fn);

#endif
