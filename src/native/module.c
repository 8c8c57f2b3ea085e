/*
 * The addon's entry: sets up the per-env handle list and registers every module's functions.
 *
 * Rules: one init per env (worker threads each get their own); a module exports its own
 * functions (nvu_init_*), so this file only lists the modules.
 */
#include "common.h"

#include <errno.h>

static napi_value init(napi_env env, napi_value exports) {
  if (!nvu_handles_init(env)) return nvu_throw_errno(env, ENOMEM, "calloc");
  nvu_init_socket(env, exports);
  nvu_init_listen(env, exports);
  nvu_init_memory(env, exports);
  nvu_init_eventfd(env, exports);
  nvu_init_fd(env, exports);
  nvu_init_process(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
