/* Batched UDP I/O for Linux (see udp_io.h). */
#define _GNU_SOURCE
#include "udp_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int set_buffer(int fd, int opt, int force_opt, int bytes) {
  if (bytes <= 0) return 0;
  if (setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes) != 0) return -errno;
  /* The kernel caps SO_RCVBUF/SO_SNDBUF at net.core.[rw]mem_max and reports double the value
   * it keeps (socket(7)); with CAP_NET_ADMIN the *FORCE variant lifts the cap. */
  int got = 0;
  socklen_t len = sizeof got;
  if (getsockopt(fd, SOL_SOCKET, opt, &got, &len) == 0 && got / 2 < bytes)
    (void)setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes);
  return 0;
}

static int resolve_numeric(const char *host, int port, struct sockaddr_storage *out, socklen_t *out_len) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) return -EINVAL;
  memcpy(out, res->ai_addr, res->ai_addrlen);
  *out_len = res->ai_addrlen;
  freeaddrinfo(res);
  if (out->ss_family == AF_INET) ((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
  else ((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
  return 0;
}

static int open_socket(const udpn_open_opts *o, int *family) {
  struct sockaddr_storage ss;
  socklen_t ss_len;
  int rc = resolve_numeric(o->host, o->port, &ss, &ss_len);
  if (rc != 0) return rc;
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1, zero = 0;
  /* Like node:dgram's udp6 default: an IPv6 socket also accepts IPv4 (v4-mapped). */
  if (ss.ss_family == AF_INET6) (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (o->reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) rc = -errno;
  if (rc == 0) rc = set_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, o->recv_buffer_bytes);
  if (rc == 0) rc = set_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, o->send_buffer_bytes);
  if (rc == 0 && bind(fd, (struct sockaddr *)&ss, ss_len) != 0) rc = -errno;
  if (rc != 0) { close(fd); return rc; }
  *family = ss.ss_family;
  return fd;
}

static int alloc_slabs(udpn_io *io) {
  io->recv_payload = malloc((size_t)io->slots * io->slot_bytes);
  io->recv_msgs = calloc(io->slots, sizeof *io->recv_msgs);
  io->recv_iov = calloc(io->slots, sizeof *io->recv_iov);
  io->recv_addr = calloc(io->slots, sizeof *io->recv_addr);
  io->send_msgs = calloc(UDPN_MAX_SLOTS, sizeof *io->send_msgs);
  io->send_iov = calloc(UDPN_MAX_SLOTS, sizeof *io->send_iov);
  io->send_addr = calloc(UDPN_MAX_SLOTS, sizeof *io->send_addr);
  if (!io->recv_payload || !io->recv_msgs || !io->recv_iov || !io->recv_addr ||
      !io->send_msgs || !io->send_iov || !io->send_addr) return -ENOMEM;
  for (unsigned i = 0; i < io->slots; i++) {
    io->recv_iov[i].iov_base = io->recv_payload + (size_t)i * io->slot_bytes;
    io->recv_iov[i].iov_len = io->slot_bytes;
    io->recv_msgs[i].msg_hdr.msg_iov = &io->recv_iov[i];
    io->recv_msgs[i].msg_hdr.msg_iovlen = 1;
    io->recv_msgs[i].msg_hdr.msg_name = &io->recv_addr[i];
  }
  for (unsigned i = 0; i < UDPN_MAX_SLOTS; i++) {
    io->send_msgs[i].msg_hdr.msg_iov = &io->send_iov[i];
    io->send_msgs[i].msg_hdr.msg_iovlen = 1;
    io->send_msgs[i].msg_hdr.msg_name = &io->send_addr[i];
  }
  return 0;
}

static void free_slabs(udpn_io *io) {
  free(io->recv_payload); free(io->recv_msgs); free(io->recv_iov); free(io->recv_addr);
  free(io->send_msgs); free(io->send_iov); free(io->send_addr);
  io->recv_payload = NULL; io->recv_msgs = NULL; io->recv_iov = NULL; io->recv_addr = NULL;
  io->send_msgs = NULL; io->send_iov = NULL; io->send_addr = NULL;
}

int udpn_open(udpn_io *io, const udpn_open_opts *opts) {
  memset(io, 0, sizeof *io);
  io->fd = -1;
  if (opts->slots == 0 || opts->slots > UDPN_MAX_SLOTS || opts->slot_bytes == 0 ||
      opts->port < 0 || opts->port > 65535) return -EINVAL;
  io->slots = opts->slots;
  io->slot_bytes = opts->slot_bytes;
  int rc = alloc_slabs(io);
  if (rc != 0) { free_slabs(io); return rc; }
  int fd = open_socket(opts, &io->family);
  if (fd < 0) { free_slabs(io); return fd; }
  io->fd = fd;
  return 0;
}

void udpn_close(udpn_io *io) {
  if (io->fd >= 0) close(io->fd);
  io->fd = -1;
  if (!io->borrowed) free_slabs(io);
}

int udpn_open_group(udpn_io *group, unsigned slots, unsigned slot_bytes) {
  memset(group, 0, sizeof *group);
  group->fd = -1;
  if (slots == 0 || slots > UDPN_MAX_SLOTS || slot_bytes == 0) return -EINVAL;
  group->slots = slots;
  group->slot_bytes = slot_bytes;
  int rc = alloc_slabs(group);
  if (rc != 0) free_slabs(group);
  return rc;
}

int udpn_open_connected(udpn_io *io, const udpn_io *group, const char *host, int port) {
  struct sockaddr_storage ss;
  socklen_t ss_len;
  *io = *group; /* borrow the slab pointers */
  io->fd = -1;
  io->borrowed = 1;
  io->connected = 1;
  if (port <= 0 || port > 65535) return -EINVAL;
  int rc = resolve_numeric(host, port, &ss, &ss_len);
  if (rc != 0) return rc;
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  /* connect(2) on UDP binds an ephemeral port and sets the default peer: sends need no address,
   * and the kernel only queues datagrams from that peer (udp(7)). */
  if (connect(fd, (struct sockaddr *)&ss, ss_len) != 0) { rc = -errno; close(fd); return rc; }
  io->fd = fd;
  io->family = ss.ss_family;
  return 0;
}

int udpn_local(const udpn_io *io, char *addr, unsigned addr_len, int *port) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(io->fd, (struct sockaddr *)&ss, &len) != 0) return -errno;
  const void *src = ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
                                            : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
  if (!inet_ntop(ss.ss_family, src, addr, addr_len)) return -errno;
  *port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
  return 0;
}

static void fill_recv_meta(const struct mmsghdr *m, const struct sockaddr_storage *ss, uint32_t *w) {
  w[UDPN_RECV_LEN] = m->msg_len;
  /* recvmsg(2): MSG_TRUNC in msg_flags = the datagram was longer than the slot and was cut. */
  w[UDPN_RECV_FLAGS] = (m->msg_hdr.msg_flags & MSG_TRUNC) ? UDPN_FLAG_TRUNCATED : 0;
  memset(&w[UDPN_ADDR], 0, 16);
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    w[UDPN_RECV_FAMILY] = 4;
    w[UDPN_RECV_PORT] = ntohs(a->sin_port);
    memcpy(&w[UDPN_ADDR], &a->sin_addr, 4);
  } else {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    w[UDPN_RECV_FAMILY] = 6;
    w[UDPN_RECV_PORT] = ntohs(a->sin6_port);
    memcpy(&w[UDPN_ADDR], &a->sin6_addr, 16);
  }
}

int udpn_recv(udpn_io *io, uint32_t *meta) {
  for (unsigned i = 0; i < io->slots; i++) io->recv_msgs[i].msg_hdr.msg_namelen = sizeof io->recv_addr[i];
  int n;
  do n = recvmmsg(io->fd, io->recv_msgs, io->slots, MSG_DONTWAIT, NULL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  for (int i = 0; i < n; i++) fill_recv_meta(&io->recv_msgs[i], &io->recv_addr[i], meta + (size_t)i * UDPN_META_WORDS);
  return n;
}

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

/* Fills msgs for meta[from..count) until one is invalid; returns how many are ready. */
static unsigned prepare(udpn_io *io, const uint8_t *payload, size_t payload_len, const uint32_t *meta,
                        unsigned from, unsigned count, int *invalid_err) {
  unsigned k = 0;
  *invalid_err = 0;
  for (unsigned i = from; i < count; i++, k++) {
    const uint32_t *w = meta + (size_t)i * UDPN_META_WORDS;
    uint64_t off = w[UDPN_SEND_OFFSET], len = w[UDPN_SEND_LEN];
    struct msghdr *h = &io->send_msgs[k].msg_hdr;
    socklen_t alen = 0;
    int rc = off + len > payload_len ? -EINVAL
           : io->connected ? 0 : build_dest(io, w, &io->send_addr[k], &alen);
    if (rc != 0) { *invalid_err = -rc; break; }
    io->send_iov[k].iov_base = (void *)(payload + off);
    io->send_iov[k].iov_len = len;
    h->msg_namelen = alen;
  }
  return k;
}

static void note_refused(udpn_io *io, uint32_t *meta, unsigned i, int err, udpn_send_result *r) {
  r->refused++;
  r->last_errno = err;
  if (io->connected) meta[(size_t)i * UDPN_META_WORDS + UDPN_SEND_ERRNO] = (uint32_t)err;
}

udpn_send_result udpn_send(udpn_io *io, const uint8_t *payload, size_t payload_len,
                           uint32_t *meta, unsigned count) {
  udpn_send_result r = {0, 0, 0};
  if (count > UDPN_MAX_SLOTS) count = UDPN_MAX_SLOTS;
  while (r.consumed < count) {
    int invalid = 0;
    unsigned ready = prepare(io, payload, payload_len, meta, r.consumed, count, &invalid);
    unsigned done = 0;
    while (done < ready) {
      int n = sendmmsg(io->fd, io->send_msgs + done, ready - done, MSG_DONTWAIT);
      if (n > 0) { done += (unsigned)n; continue; }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        r.consumed += done;
        return r; /* the rest waits for writable */
      }
      /* sendmmsg(2) stops at the first failing message: skip it and count it refused. */
      note_refused(io, meta, r.consumed + done, n < 0 ? errno : EIO, &r);
      done++;
    }
    r.consumed += done;
    if (invalid) { note_refused(io, meta, r.consumed, invalid, &r); r.consumed++; }
  }
  return r;
}

int udpn_pton(const char *text, uint32_t words[4]) {
  memset(words, 0, 16);
  if (inet_pton(AF_INET, text, words) == 1) return 4;
  if (inet_pton(AF_INET6, text, words) == 1) return 6;
  return 0;
}

int udpn_ntop(int family, const uint32_t words[4], char *out, unsigned out_len) {
  if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, words, out, out_len)) return -errno;
  return 0;
}
