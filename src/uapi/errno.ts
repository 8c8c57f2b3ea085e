/**
 * The Linux errno values (include/uapi/asm-generic/errno-base.h, errno.h) this project returns
 * or names: the kernel's answer to a rejected access, and the `error` field of a vfio-user
 * error reply (the spec uses errno values there).
 *
 * Rules: values only, copied from the uapi headers; one table for every layer.
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  ETIME: 62,
  EOVERFLOW: 75,
  EPROTO: 71,
  EMSGSIZE: 90,
  ENOTSUP: 95,
  ETIMEDOUT: 110,
} as const;

export type ErrnoName = keyof typeof Errno;

const NAMES = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

/** Name of an errno value ("EINVAL"), or "errno N" when unknown. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}
