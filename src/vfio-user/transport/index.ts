/** The transport's public surface: AF_UNIX listeners and connections with fd passing. */

export { UnixConnection } from './connection.js';
export { errnoCode, TransportError, type TransportErrorCode } from './errors.js';
export type { Connection, Listener } from './types.js';
export {
  connectUnix,
  type ListenOptions,
  listenFd,
  listenUnix,
  probeSocketPath,
  UnixListener,
} from './unix-socket.js';
