/*
 * Addon entry and shared helpers: errno → JS errors, argument parsing, and the poll-handle
 * lifecycle shared by sockets and fd watchers.
 *
 * Rules: handles are registered in a per-env list so env teardown stops and frees them;
 * a handle is closed at most once (stop polling, close an owned fd, then uv_close).
 * JS callbacks go through napi_make_callback so promises resolved there run right after.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
  nvu_handle *head;
} env_data;

static const napi_type_tag handle_tag = {0x6e7675686e646c31ULL, 0x9e3779b97f4a7c15ULL};

void nvu_throw_napi(napi_env env, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[256];
  snprintf(msg, sizeof msg, "native addon: %s failed (%s)", what,
           info && info->error_message ? info->error_message : "unknown");
  napi_throw_error(env, "ENAPI", msg);
}

napi_value nvu_errno_error(napi_env env, int err, const char *syscall) {
  const char *name = strerrorname_np(err);
  char codebuf[32];
  if (!name) {
    snprintf(codebuf, sizeof codebuf, "E%d", err);
    name = codebuf;
  }
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s (%s)", syscall, strerror(err), name);
  napi_value code, message, error, errnum, sys;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  return error;
}

napi_value nvu_throw_errno(napi_env env, int err, const char *syscall) {
  napi_throw(env, nvu_errno_error(env, err, syscall));
  return NULL;
}

napi_value nvu_throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

bool nvu_get_int(napi_env env, napi_value v, int32_t *out, const char *what) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number ||
      napi_get_value_int32(env, v, out) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be an integer", what);
    nvu_throw_type(env, msg);
    return false;
  }
  return true;
}

bool nvu_get_u64(napi_env env, napi_value v, uint64_t *out, const char *what) {
  napi_valuetype t;
  char msg[128];
  snprintf(msg, sizeof msg, "%s must be a non-negative integer (number or bigint)", what);
  if (napi_typeof(env, v, &t) != napi_ok) return nvu_throw_type(env, msg), false;
  if (t == napi_bigint) {
    bool lossless = false;
    uint64_t u;
    if (napi_get_value_bigint_uint64(env, v, &u, &lossless) != napi_ok || !lossless)
      return nvu_throw_type(env, msg), false;
    *out = u;
    return true;
  }
  double d;
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) ||
      d > 9007199254740991.0 || d != (double)(uint64_t)d)
    return nvu_throw_type(env, msg), false;
  *out = (uint64_t)d;
  return true;
}

char *nvu_get_string(napi_env env, napi_value v, const char *what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s must be a string", what);
    nvu_throw_type(env, msg);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) return nvu_throw_errno(env, ENOMEM, "malloc"), NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {
    free(s);
    nvu_throw_type(env, "string must not contain NUL");
    return NULL;
  }
  return s;
}

napi_value nvu_int(napi_env env, int64_t v) {
  napi_value r;
  napi_create_int64(env, v, &r);
  return r;
}

napi_value nvu_undefined(napi_env env) {
  napi_value r;
  napi_get_undefined(env, &r);
  return r;
}

void nvu_export(napi_env env, napi_value exports, const char *name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);
  napi_set_named_property(env, exports, name, f);
}

/* ---- handle lifecycle ---- */

static void on_handle_closed(uv_handle_t *uvh) {
  nvu_handle *h = uvh->data;
  if (h->env) {
    if (h->cb) napi_delete_reference(h->env, h->cb);
    if (h->actx) napi_async_destroy(h->env, h->actx);
  }
  if (h->free_extra) h->free_extra(h);
  free(h);
}

static void unlink_handle(nvu_handle *h) {
  env_data *d = NULL;
  if (h->env) napi_get_instance_data(h->env, (void **)&d);
  if (h->prev) h->prev->next = h->next;
  else if (d && d->head == h) d->head = h->next;
  if (h->next) h->next->prev = h->prev;
  h->prev = h->next = NULL;
}

void nvu_handle_register(nvu_handle *h) {
  env_data *d = NULL;
  napi_get_instance_data(h->env, (void **)&d);
  if (!d) return;
  h->prev = NULL;
  h->next = d->head;
  if (d->head) d->head->prev = h;
  d->head = h;
}

void nvu_handle_close(nvu_handle *h) {
  if (h->closing) return;
  h->closing = true;
  uv_poll_stop(&h->poll); /* also drops the fd from epoll, so closing it next is safe */
  if (h->owns_fd && h->fd >= 0) close(h->fd);
  h->fd = -1;
  unlink_handle(h);
  uv_close((uv_handle_t *)&h->poll, on_handle_closed);
}

bool nvu_handle_init(napi_env env, nvu_handle *h, int fd, napi_value cb, const char *name) {
  uv_loop_t *loop;
  h->env = env;
  h->fd = fd;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return false;
  int rc = uv_poll_init(loop, &h->poll, fd);
  if (rc < 0) {
    nvu_throw_errno(env, -rc, "uv_poll_init");
    return false;
  }
  h->poll.data = h;
  napi_value resource, rname;
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &rname);
  napi_async_init(env, resource, rname, &h->actx);
  napi_create_reference(env, cb, 1, &h->cb);
  nvu_handle_register(h);
  return true;
}

void nvu_handle_call(nvu_handle *h, size_t argc, napi_value *argv) {
  napi_env env = h->env;
  napi_value cb, recv, result;
  if (!env || napi_get_reference_value(env, h->cb, &cb) != napi_ok || !cb) return;
  napi_get_global(env, &recv);
  napi_status st = napi_make_callback(env, h->actx, recv, cb, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err); /* → process 'uncaughtException', as for any emitter */
  }
}

napi_value nvu_handle_wrap(napi_env env, nvu_handle *h) {
  napi_value ext;
  if (napi_create_external(env, h, NULL, NULL, &ext) != napi_ok) return NULL;
  napi_type_tag_object(env, ext, &handle_tag);
  return ext;
}

nvu_handle *nvu_handle_from(napi_env env, napi_value v) {
  bool ok = false;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_external)
    napi_check_object_type_tag(env, v, &handle_tag, &ok);
  if (!ok) {
    nvu_throw_type(env, "expected a native handle");
    return NULL;
  }
  void *p = NULL;
  napi_get_value_external(env, v, &p);
  return p;
}

static void env_teardown(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  env_data *d = data;
  nvu_handle *h = d->head;
  while (h) {
    nvu_handle *next = h->next;
    h->env = NULL; /* the env is going: free without touching napi */
    h->prev = h->next = NULL;
    if (!h->closing) {
      h->closing = true;
      uv_poll_stop(&h->poll);
      if (h->owns_fd && h->fd >= 0) close(h->fd);
      uv_close((uv_handle_t *)&h->poll, on_handle_closed);
    }
    h = next;
  }
  free(d);
}

static napi_value init(napi_env env, napi_value exports) {
  env_data *d = calloc(1, sizeof *d);
  if (!d) return nvu_throw_errno(env, ENOMEM, "calloc");
  napi_set_instance_data(env, d, env_teardown, NULL);
  nvu_init_socket(env, exports);
  nvu_init_listen(env, exports);
  nvu_init_memory(env, exports);
  nvu_init_process(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
