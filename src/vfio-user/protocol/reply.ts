/**
 * Shared checks for client-side reply decoders: the frame is a reply, not an error reply
 * (that becomes a RemoteError), and its payload has the expected minimum size.
 */
import { Errno } from '../../uapi/errno.js';
import { HeaderFlags } from './constants.js';
import { badPayload, RemoteError } from './errors.js';
import { type Frame, isErrorReply, isReply } from './header.js';

export function expectReply(frame: Frame, command: number, minPayload = 0): void {
  if (!isReply(frame.header))
    badPayload(`expected a reply, got message type ${frame.header.flags & HeaderFlags.TYPE_MASK}`);
  if (isErrorReply(frame.header))
    throw new RemoteError(command, frame.header.error || Errno.EINVAL);
  if (frame.payload.length < minPayload) {
    badPayload(
      `reply payload is ${frame.payload.length} bytes, below the minimum of ${minPayload}`,
    );
  }
}

/** Throw if any fds arrived where none belong. */
export function expectNoFds(frame: Frame, what: string): void {
  if (frame.fds.length > 0) badPayload(`${what} carries ${frame.fds.length} fds where none belong`);
}
