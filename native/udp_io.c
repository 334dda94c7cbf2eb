/* Batched UDP I/O for Linux (see udp_io.h): sockets, slabs and receiving; sending is in udp_send.c. */
#define _GNU_SOURCE
#include "udp_io.h"
#include "udp_offload.h"

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

/* Receive: `msgs` buffers of `msg_bytes` (the slots, or fewer of 64 KiB for GRO) and where each
 * of up to `slots` datagrams starts; send: headers for UDPN_MAX_SLOTS messages. */
static int alloc_slabs(udpn_io *io, unsigned msgs, unsigned msg_bytes) {
  io->recv_msgs_n = msgs;
  io->recv_payload = malloc((size_t)msgs * msg_bytes);
  io->recv_payload_len = (size_t)msgs * msg_bytes;
  io->recv_msgs = calloc(msgs, sizeof *io->recv_msgs);
  io->recv_iov = calloc(msgs, sizeof *io->recv_iov);
  io->recv_addr = calloc(msgs, sizeof *io->recv_addr);
  io->recv_ctrl = calloc(msgs, UDPN_CTRL_BYTES);
  io->recv_src = calloc(io->slots, sizeof *io->recv_src);
  io->send_msgs = calloc(UDPN_MAX_SLOTS, sizeof *io->send_msgs);
  io->send_iov = calloc(UDPN_MAX_SLOTS, sizeof *io->send_iov);
  io->send_addr = calloc(UDPN_MAX_SLOTS, sizeof *io->send_addr);
  io->send_segs = calloc(UDPN_MAX_SLOTS, sizeof *io->send_segs);
  io->send_ctrl = calloc(UDPN_MAX_SLOTS, UDPN_CTRL_BYTES);
  if (!io->recv_payload || !io->recv_msgs || !io->recv_iov || !io->recv_addr || !io->recv_ctrl ||
      !io->recv_src || !io->send_msgs || !io->send_iov || !io->send_addr || !io->send_segs ||
      !io->send_ctrl) return -ENOMEM;
  for (unsigned i = 0; i < msgs; i++) {
    io->recv_iov[i].iov_base = io->recv_payload + (size_t)i * msg_bytes;
    io->recv_iov[i].iov_len = msg_bytes;
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
  void **all[] = {(void **)&io->recv_payload, (void **)&io->recv_msgs, (void **)&io->recv_iov,
                  (void **)&io->recv_addr, (void **)&io->recv_ctrl, (void **)&io->recv_src,
                  (void **)&io->send_msgs, (void **)&io->send_iov, (void **)&io->send_addr,
                  (void **)&io->send_segs, (void **)&io->send_ctrl};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) { free(*all[i]); *all[i] = NULL; }
}

int udpn_open(udpn_io *io, const udpn_open_opts *opts) {
  memset(io, 0, sizeof *io);
  io->fd = -1;
  io->owner = &io->owner_word;
  if (opts->slots == 0 || opts->slots > UDPN_MAX_SLOTS || opts->slot_bytes == 0 ||
      opts->port < 0 || opts->port > 65535) return -EINVAL;
  io->slots = opts->slots;
  io->slot_bytes = opts->slot_bytes;
  int fd = open_socket(opts, &io->family);
  if (fd < 0) return fd;
  io->fd = fd;
  udpn_offload_socket(io, opts->offload, 1);
  unsigned msgs = io->slots, msg_bytes = io->slot_bytes;
  if (io->gro && msg_bytes < UDPN_GRO_MSG_BYTES) {
    msg_bytes = UDPN_GRO_MSG_BYTES;
    if (msgs > UDPN_GRO_MSGS) msgs = UDPN_GRO_MSGS;
  }
  int rc = alloc_slabs(io, msgs, msg_bytes);
  if (rc != 0) { free_slabs(io); close(fd); io->fd = -1; }
  return rc;
}

void udpn_close(udpn_io *io) {
  if (io->fd >= 0) close(io->fd);
  io->fd = -1;
  if (!io->borrowed) free_slabs(io);
}

int udpn_open_group(udpn_io *group, unsigned slots, unsigned slot_bytes) {
  memset(group, 0, sizeof *group);
  group->fd = -1;
  group->owner = &group->owner_word;
  if (slots == 0 || slots > UDPN_MAX_SLOTS || slot_bytes == 0) return -EINVAL;
  group->slots = slots;
  group->slot_bytes = slot_bytes;
  int rc = alloc_slabs(group, slots, slot_bytes);
  if (rc != 0) free_slabs(group);
  return rc;
}

int udpn_open_connected(udpn_io *io, const udpn_io *group, const char *host, int port, unsigned offload) {
  struct sockaddr_storage ss;
  socklen_t ss_len;
  *io = *group; /* borrow the slab pointers (and the group's slab owner word) */
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
  udpn_offload_socket(io, offload, group->slot_bytes >= UDPN_GRO_MSG_BYTES);
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

static void fill_addr(const struct sockaddr_storage *ss, uint32_t *w) {
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

static int recv_messages(udpn_io *io, unsigned n) {
  int got;
  *io->owner = io; /* the slab now holds this socket's datagrams */
  do got = recvmmsg(io->fd, io->recv_msgs, n, MSG_DONTWAIT, NULL);
  while (got < 0 && errno == EINTR);
  if (got < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  return got;
}

/* GRO: hands out the datagrams of the received messages, a run cut at its segment size, up to
 * io->slots of them; the rest stay for the next call. A datagram longer than slot_bytes is cut to
 * it and flagged, as the kernel does with a slot of that size. */
static unsigned split(udpn_io *io, uint32_t *meta) {
  unsigned k = 0;
  while (io->rx_msg < io->rx_n && k < io->slots) {
    const struct mmsghdr *m = &io->recv_msgs[io->rx_msg];
    unsigned len = m->msg_len, seg = udpn_gro_segment(&m->msg_hdr);
    if (seg == 0 || seg >= len) seg = len; /* a single datagram (possibly empty) */
    else if (io->rx_off == 0) udpn_gro_received((len + seg - 1) / seg);
    for (; k < io->slots; k++) {
      unsigned piece = len - io->rx_off < seg ? len - io->rx_off : seg;
      uint32_t *w = meta + (size_t)k * UDPN_META_WORDS;
      int last = io->rx_off + piece >= len;
      w[UDPN_RECV_LEN] = piece > io->slot_bytes ? io->slot_bytes : piece;
      w[UDPN_RECV_FLAGS] = piece > io->slot_bytes || (last && (m->msg_hdr.msg_flags & MSG_TRUNC)) ? UDPN_FLAG_TRUNCATED : 0;
      fill_addr(&io->recv_addr[io->rx_msg], w);
      io->recv_src[k] = (const uint8_t *)io->recv_iov[io->rx_msg].iov_base + io->rx_off;
      io->rx_off += piece;
      if (last) { io->rx_msg++; io->rx_off = 0; k++; break; }
    }
  }
  return k;
}

int udpn_recv_pending(const udpn_io *io) {
  return io->gro && io->rx_msg < io->rx_n && *io->owner == io;
}

static int recv_gro(udpn_io *io, uint32_t *meta, int *more) {
  if (*io->owner != io) io->rx_n = 0; /* another socket of the group has reused the slab */
  if (io->rx_msg >= io->rx_n) {
    for (unsigned i = 0; i < io->recv_msgs_n; i++) {
      struct msghdr *h = &io->recv_msgs[i].msg_hdr;
      h->msg_namelen = sizeof io->recv_addr[i];
      h->msg_control = io->recv_ctrl + (size_t)i * UDPN_CTRL_BYTES;
      h->msg_controllen = UDPN_CTRL_BYTES;
    }
    int n = recv_messages(io, io->recv_msgs_n);
    *more = 0;
    if (n <= 0) return n;
    io->rx_n = (unsigned)n;
    io->rx_msg = io->rx_off = 0;
    io->rx_full = (unsigned)n == io->recv_msgs_n;
  }
  unsigned k = split(io, meta);
  *more = io->rx_msg < io->rx_n || io->rx_full;
  return (int)k;
}

int udpn_recv(udpn_io *io, uint32_t *meta, int *more) {
  if (io->gro) return recv_gro(io, meta, more);
  for (unsigned i = 0; i < io->slots; i++) {
    io->recv_msgs[i].msg_hdr.msg_namelen = sizeof io->recv_addr[i];
    io->recv_msgs[i].msg_hdr.msg_control = NULL;
    io->recv_msgs[i].msg_hdr.msg_controllen = 0;
  }
  int n = recv_messages(io, io->slots);
  *more = n == (int)io->slots;
  for (int i = 0; i < n; i++) {
    const struct mmsghdr *m = &io->recv_msgs[i];
    uint32_t *w = meta + (size_t)i * UDPN_META_WORDS;
    w[UDPN_RECV_LEN] = m->msg_len;
    /* recvmsg(2): MSG_TRUNC in msg_flags = the datagram was longer than the slot and was cut. */
    w[UDPN_RECV_FLAGS] = (m->msg_hdr.msg_flags & MSG_TRUNC) ? UDPN_FLAG_TRUNCATED : 0;
    fill_addr(&io->recv_addr[i], w);
    io->recv_src[i] = io->recv_iov[i].iov_base;
  }
  return n;
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
