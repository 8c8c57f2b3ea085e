/**
 * The process logger: pino, JSON lines on stderr (stdout is for the banner and `inspect`
 * output). `--log-level` picks the threshold; posted-write errors and disconnects are
 * logged here since they cannot be answered on the wire.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'nvgrace-user' } }, pino.destination({ fd: 2, sync: true }));
}
