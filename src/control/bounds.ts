/**
 * The control socket's bounds, apart from the server so that `serve --help` can print them
 * without loading the JSON-RPC server (which `serve` loads only with --control-socket).
 */

/** Longest accepted line (bytes, newline excluded). */
export const MAX_LINE = 64 * 1024;
/** Unsent bytes past which a control connection is dropped. */
export const MAX_OUTPUT = 4 * 2 ** 20;
/** Lines queued per connection before reading pauses. */
export const MAX_QUEUED = 256;
/** Deepest nesting of arrays/objects accepted in a message (params need 3). */
export const MAX_DEPTH = 32;
