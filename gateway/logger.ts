/** Structured JSON logs (pino). Child loggers per listener and destination; nothing per packet above trace. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: { service: 'udp-gateway' }, timestamp: pino.stdTimeFunctions.isoTime });
}
