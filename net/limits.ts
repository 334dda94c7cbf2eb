/**
 * The limits the net layer relies on, written once, with where they come from; and errno naming
 * for errors that come back from the addon as numbers.
 */
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';

/** recvmmsg(2)/sendmmsg(2) take at most UIO_MAXIOV = 1024 messages per call (Linux). */
export const MAX_SLOTS = 1024;
/** Send slab: the payloads of one sendmmsg are packed here (one per sender, shared by its sockets). */
export const SEND_SLAB_BYTES = 1024 * 1024;
/** Largest UDP payload (RFC 768: 16-bit length field; IPv4 allows 65507, the kernel refuses beyond). */
export const MAX_UDP_PAYLOAD = 65535;
/** Datagrams a listener socket keeps while it would block (EAGAIN); beyond, sends are dropped and counted. */
export const LISTENER_BACKLOG = 16384;
/** Datagrams an upstream (session) socket keeps while it would block; beyond, its packets are retryable. */
export const UPSTREAM_BACKLOG = 1024;

/** errno values of this platform (Linux: EINVAL 22, EMSGSIZE 90), for refusals decided in JS. */
export const EINVAL = constants.errno.EINVAL;
export const EMSGSIZE = constants.errno.EMSGSIZE;

/** "EMSGSIZE" for the addon's positive errno 90, or "errno N" where the platform has no name for it. */
export function errnoName(errno: number): string {
  try { return getSystemErrorName(-errno); } catch { return `errno ${errno}`; }
}

/** An Error for an errno from the addon: message "<what>: <name>", with `code` and `errno` set. */
export function errnoError(errno: number, what: string): Error {
  const name = errnoName(errno);
  return Object.assign(new Error(`${what}: ${name}`), { code: name, errno });
}
