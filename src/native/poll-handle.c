/*
 * The poll-handle lifecycle shared by sockets and fd watchers.
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

napi_value nvu_handle_call_bare(nvu_handle *h, size_t argc, napi_value *argv) {
  napi_env env = h->env;
  napi_value cb, recv, result = NULL;
  if (!env || napi_get_reference_value(env, h->cb, &cb) != napi_ok || !cb) return NULL;
  napi_get_undefined(env, &recv);
  napi_status st = napi_call_function(env, recv, cb, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
    return NULL;
  }
  return st == napi_ok ? result : NULL;
}

napi_value nvu_handle_call(nvu_handle *h, size_t argc, napi_value *argv) {
  napi_env env = h->env;
  napi_value cb, recv, result = NULL;
  if (!env || napi_get_reference_value(env, h->cb, &cb) != napi_ok || !cb) return NULL;
  napi_get_global(env, &recv); /* napi_make_callback needs an object receiver */
  napi_status st = napi_make_callback(env, h->actx, recv, cb, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err); /* → process 'uncaughtException', as for any emitter */
    return NULL;
  }
  return st == napi_ok ? result : NULL;
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

bool nvu_handles_init(napi_env env) {
  env_data *d = calloc(1, sizeof *d);
  if (!d) return false;
  napi_set_instance_data(env, d, env_teardown, NULL);
  return true;
}
