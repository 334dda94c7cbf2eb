/*
 * Sending one batch (udpn_send, see udp_io.h): the datagrams described by meta become sendmmsg(2)
 * messages, one per datagram, or one per run of datagrams that can leave as a UDP_SEGMENT (GSO)
 * message (udp_offload.h). The outcome per datagram is the same either way: every datagram is
 * sent, refused (counted, errno noted) or left for the caller to retry when writable (EAGAIN).
 */
#define _GNU_SOURCE
#include "udp_io.h"
#include "udp_offload.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* include/uapi/linux/udp.h */
#endif

#define W UDPN_META_WORDS

/* Builds the destination of one send; 0 or -errno (the datagram is then refused). */
static int build_dest(const udpn_io *io, const uint32_t *w, struct sockaddr_storage *ss, socklen_t *len) {
  uint32_t port = w[UDPN_SEND_PORT], family = w[UDPN_SEND_FAMILY];
  if (port == 0 || port > 65535) return -EINVAL;
  memset(ss, 0, sizeof *ss);
  if (io->family == AF_INET && family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    memcpy(&a->sin_addr, &w[UDPN_ADDR], 4);
    *len = sizeof *a;
    return 0;
  }
  if (io->family != AF_INET6 || (family != 4 && family != 6)) return -EAFNOSUPPORT;
  struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
  a->sin6_family = AF_INET6;
  a->sin6_port = htons((uint16_t)port);
  if (family == 6) memcpy(&a->sin6_addr, &w[UDPN_ADDR], 16);
  else { /* IPv4 from an IPv6 socket: v4-mapped ::ffff:a.b.c.d (RFC 4291 2.5.5.2). */
    a->sin6_addr.s6_addr[10] = 0xff;
    a->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&a->sin6_addr.s6_addr[12], &w[UDPN_ADDR], 4);
  }
  *len = sizeof *a;
  return 0;
}

/* Same destination: the port, family and address words match. */
static int same_dest(const uint32_t *a, const uint32_t *b) {
  return memcmp(&a[UDPN_SEND_PORT], &b[UDPN_SEND_PORT], 6 * sizeof(uint32_t)) == 0;
}

/* How many datagrams from slot i on leave as one message (1, or a GSO run: back to back in the
 * slab, one destination, all of the first one's size but the last, which may be shorter, within
 * the kernel's limits); *bytes is their total. */
static unsigned run_length(const udpn_io *io, const uint32_t *meta, size_t payload_len, unsigned i,
                           unsigned count, size_t *bytes) {
  const uint32_t *first = meta + (size_t)i * W;
  uint64_t seg = first[UDPN_SEND_LEN], end = (uint64_t)first[UDPN_SEND_OFFSET] + seg;
  unsigned n = 1;
  *bytes = seg;
  if (!io->gso || seg == 0 || seg > io->gso_seg_max) return 1;
  for (unsigned j = i + 1; j < count && n < UDPN_GSO_MAX_SEGS; j++) {
    const uint32_t *w = meta + (size_t)j * W;
    uint64_t len = w[UDPN_SEND_LEN];
    if (w[UDPN_SEND_OFFSET] != end || len == 0 || len > seg || *bytes + len > UDPN_GSO_MAX_BYTES ||
        end + len > payload_len || (!io->connected && !same_dest(first, w))) break;
    n++;
    *bytes += len;
    end += len;
    if (len < seg) break; /* a shorter datagram ends the run */
  }
  return n;
}

static void set_segment(udpn_io *io, unsigned k, uint16_t seg) {
  struct msghdr *h = &io->send_msgs[k].msg_hdr;
  h->msg_control = io->send_ctrl + (size_t)k * UDPN_CTRL_BYTES;
  h->msg_controllen = CMSG_SPACE(sizeof seg);
  struct cmsghdr *c = CMSG_FIRSTHDR(h);
  c->cmsg_level = SOL_UDP;
  c->cmsg_type = UDP_SEGMENT;
  c->cmsg_len = CMSG_LEN(sizeof seg);
  memcpy(CMSG_DATA(c), &seg, sizeof seg);
}

static uint16_t segment_of(const udpn_io *io, unsigned k) {
  uint16_t seg;
  memcpy(&seg, CMSG_DATA(CMSG_FIRSTHDR(&io->send_msgs[k].msg_hdr)), sizeof seg);
  return seg;
}

/* Message k without its first datagram (that one was refused). */
static void drop_first(udpn_io *io, unsigned k) {
  uint16_t seg = segment_of(io, k);
  io->send_iov[k].iov_base = (uint8_t *)io->send_iov[k].iov_base + seg;
  io->send_iov[k].iov_len -= seg;
  if (--io->send_segs[k] == 1) {
    io->send_msgs[k].msg_hdr.msg_control = NULL;
    io->send_msgs[k].msg_hdr.msg_controllen = 0;
  }
}

/* Fills messages for meta[from..count) until a datagram is invalid; returns the message count and
 * in *slots how many datagrams they carry. */
static unsigned prepare(udpn_io *io, const uint8_t *payload, size_t payload_len, const uint32_t *meta,
                        unsigned from, unsigned count, int *invalid_err, unsigned *slots) {
  unsigned k = 0, i = from;
  *invalid_err = 0;
  for (; i < count; k++) {
    const uint32_t *w = meta + (size_t)i * W;
    uint64_t off = w[UDPN_SEND_OFFSET], len = w[UDPN_SEND_LEN];
    struct msghdr *h = &io->send_msgs[k].msg_hdr;
    socklen_t alen = 0;
    int rc = off + len > payload_len ? -EINVAL
           : io->connected ? 0 : build_dest(io, w, &io->send_addr[k], &alen);
    if (rc != 0) { *invalid_err = -rc; break; }
    size_t bytes;
    unsigned n = run_length(io, meta, payload_len, i, count, &bytes);
    io->send_iov[k].iov_base = (void *)(payload + off);
    io->send_iov[k].iov_len = bytes;
    h->msg_namelen = alen;
    io->send_segs[k] = (uint16_t)n;
    if (n > 1) set_segment(io, k, (uint16_t)len);
    else { h->msg_control = NULL; h->msg_controllen = 0; }
    i += n;
  }
  *slots = i - from;
  return k;
}

static void note_refused(udpn_io *io, uint32_t *meta, unsigned i, int err, udpn_send_result *r) {
  r->refused++;
  r->last_errno = err;
  if (io->connected) meta[(size_t)i * W + UDPN_SEND_ERRNO] = (uint32_t)err;
  else meta[(size_t)i * W + UDPN_SEND_FAMILY] = 0; /* unconnected: which one, for the caller's counts */
}

/* sendmmsg from message `from`; with the test hook armed, a GSO message is refused instead. */
static int send_messages(udpn_io *io, unsigned from, unsigned n) {
  if (udpn_gso_test_armed()) {
    unsigned j = from;
    while (j < from + n && io->send_segs[j] == 1) j++;
    if (j > from) n = j - from; /* the singles first, so that the refusal hits the GSO message */
    else {
      int err = udpn_gso_test_refusal();
      if (err) { errno = err; return -1; }
    }
  }
  return sendmmsg(io->fd, io->send_msgs + from, n, MSG_DONTWAIT);
}

/* Messages from..from+n left: how many datagrams that is (and the GSO counters). */
static unsigned sent(udpn_io *io, unsigned from, unsigned n) {
  unsigned slots = 0, runs = 0, in_runs = 0;
  for (unsigned k = from; k < from + n; k++) {
    slots += io->send_segs[k];
    if (io->send_segs[k] > 1) { runs++; in_runs += io->send_segs[k]; }
  }
  if (runs) udpn_gso_sent(runs, in_runs);
  return slots;
}

udpn_send_result udpn_send(udpn_io *io, const uint8_t *payload, size_t payload_len,
                           uint32_t *meta, unsigned count) {
  udpn_send_result r = {0, 0, 0};
  if (count > UDPN_MAX_SLOTS) count = UDPN_MAX_SLOTS;
  while (r.consumed < count) {
    int invalid = 0, again = 0;
    unsigned slots;
    unsigned ready = prepare(io, payload, payload_len, meta, r.consumed, count, &invalid, &slots);
    unsigned done = 0, at = r.consumed; /* at: the first datagram of message `done` */
    while (done < ready) {
      int n = send_messages(io, done, ready - done);
      if (n > 0) { at += sent(io, done, (unsigned)n); done += (unsigned)n; continue; }
      int err = n < 0 ? errno : EIO;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
        r.consumed = at;
        return r; /* the rest waits for writable */
      }
      if (io->send_segs[done] > 1 && (err == EINVAL || err == EIO || err == EMSGSIZE)) {
        /* The kernel refused the offload, not a datagram: prepare again from this run on, which
         * then leaves as plain datagrams (or shorter runs), as it would have without GSO. */
        udpn_gso_refused(io, err, segment_of(io, done));
        again = 1;
        break;
      }
      /* sendmmsg(2) stops at the first failing message: its (first) datagram is refused. A GSO
       * run fails whole on an error of its destination (ECONNREFUSED from an ICMP error, EPERM from
       * a firewall), where plain sends would fail only its first datagram: the rest go again. */
      note_refused(io, meta, at++, err, &r);
      if (io->send_segs[done] > 1) drop_first(io, done);
      else done++;
    }
    r.consumed = at;
    if (again) continue;
    if (invalid) { note_refused(io, meta, r.consumed, invalid, &r); r.consumed++; }
  }
  return r;
}
