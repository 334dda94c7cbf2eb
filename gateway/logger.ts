/** Structured JSON logs (pino). Child loggers per listener and destination; nothing per packet above trace.
 *  Every line carries the process id, so the lines of --workers processes can be told apart. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: { service: 'udp-gateway', pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
