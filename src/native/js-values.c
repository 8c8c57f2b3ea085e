/*
 * JS values for the addon: errno → JS errors (code, errno, syscall), argument parsing, small
 * return values, and exporting a function.
 *
 * Rules: every syscall failure becomes a JS Error with `code` (errno name), `errno` (negative)
 * and `syscall`; a bad argument is a TypeError naming it.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


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
