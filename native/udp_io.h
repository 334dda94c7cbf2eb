/*
 * Batched UDP I/O for Linux: one non-blocking socket, recvmmsg(2) into a fixed slab of slots,
 * sendmmsg(2) from a caller-owned payload slab. No Node-API here; udp_native.c binds it to JS.
 */
#ifndef UDPN_IO_H
#define UDPN_IO_H

#include <stdint.h>
#include <sys/socket.h>

/* Per-datagram metadata, 8 uint32 words, shared with JS as a Uint32Array.
 * Receive: [len, port, family (4|6), flags, addr bytes 0..15 as 4 words].
 * Send:    [offset into payload slab, len, port, family (4|6), addr bytes 0..15 as 4 words]. */
#define UDPN_META_WORDS 8
#define UDPN_RECV_LEN 0
#define UDPN_RECV_PORT 1
#define UDPN_RECV_FAMILY 2
#define UDPN_RECV_FLAGS 3
#define UDPN_SEND_OFFSET 0
#define UDPN_SEND_LEN 1
#define UDPN_SEND_PORT 2
#define UDPN_SEND_FAMILY 3
#define UDPN_ADDR 4
#define UDPN_FLAG_TRUNCATED 1u
/* Connected sockets: the port word of a refused datagram is overwritten with its errno. */
#define UDPN_SEND_ERRNO 2

/* sendmmsg/recvmmsg take at most UIO_MAXIOV (1024) messages per call (Linux). */
#define UDPN_MAX_SLOTS 1024

typedef struct udpn_io {
  int fd;
  int family; /* AF_INET or AF_INET6 */
  int connected;     /* connect()ed: sends carry no address (the meta port/addr words are unused) */
  int borrowed;      /* the slabs belong to a group (udpn_open_group) and are not freed here */
  unsigned slots;
  unsigned slot_bytes;
  uint8_t *recv_payload;           /* slots * slot_bytes */
  struct mmsghdr *recv_msgs;       /* slots */
  struct iovec *recv_iov;          /* slots */
  struct sockaddr_storage *recv_addr; /* slots */
  struct mmsghdr *send_msgs;       /* UDPN_MAX_SLOTS */
  struct iovec *send_iov;          /* UDPN_MAX_SLOTS */
  struct sockaddr_storage *send_addr; /* UDPN_MAX_SLOTS */
} udpn_io;

typedef struct udpn_open_opts {
  const char *host;
  int port;
  int reuse_port;
  int recv_buffer_bytes; /* 0 = leave the kernel default */
  int send_buffer_bytes;
  unsigned slots;
  unsigned slot_bytes;
} udpn_open_opts;

typedef struct udpn_send_result {
  unsigned consumed; /* datagrams sent or refused; the rest wait for writable (EAGAIN) */
  unsigned refused;  /* datagrams the kernel or validation refused (skipped) */
  int last_errno;    /* errno of the last refusal, 0 if none */
} udpn_send_result;

/* Returns 0 or -errno. On success io is ready and owns an open socket. */
int udpn_open(udpn_io *io, const udpn_open_opts *opts);
void udpn_close(udpn_io *io);
/* A group: slabs only (fd -1), shared by connected sockets opened with udpn_open_connected. */
int udpn_open_group(udpn_io *group, unsigned slots, unsigned slot_bytes);
/* A socket connected to host:port (numeric), on an ephemeral port of the host's family, that
 * borrows the group's slabs (the group must outlive it). 0 or -errno. */
int udpn_open_connected(udpn_io *io, const udpn_io *group, const char *host, int port);
/* Textual local address and port; 0 or -errno. */
int udpn_local(const udpn_io *io, char *addr, unsigned addr_len, int *port);
/* Receives up to io->slots datagrams and fills meta (slots * UDPN_META_WORDS).
 * Returns the count (0 when nothing is waiting) or -errno. */
int udpn_recv(udpn_io *io, uint32_t *meta);
/* Sends count datagrams described by meta from payload; never blocks. */
udpn_send_result udpn_send(udpn_io *io, const uint8_t *payload, size_t payload_len,
                           uint32_t *meta, unsigned count);
/* inet_pton into 4 words; returns 4, 6 or 0 for not an address. */
int udpn_pton(const char *text, uint32_t words[4]);
/* inet_ntop of 4 words; 0 or -errno. */
int udpn_ntop(int family, const uint32_t words[4], char *out, unsigned out_len);

#endif
