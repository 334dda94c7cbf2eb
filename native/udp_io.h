/*
 * Batched UDP I/O for Linux: one non-blocking socket, recvmmsg(2) into a fixed slab of slots,
 * sendmmsg(2) from a caller-owned payload slab. No Node-API here; udp_native.c binds it to JS.
 * With offload (udp_offload.c), consecutive datagrams of one send batch to the same destination
 * leave as one UDP_SEGMENT (GSO) message, and UDP_GRO runs are split back into datagrams on
 * receive, so callers see exactly the datagrams they would see without it.
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
/* Connected sockets: the port word of a refused datagram is overwritten with its errno;
 * unconnected ones: its family word with 0 (the errno is the send's last). */
#define UDPN_SEND_ERRNO 2

/* sendmmsg/recvmmsg take at most UIO_MAXIOV (1024) messages per call (Linux). */
#define UDPN_MAX_SLOTS 1024

/* Offload bits (udpn_offload_set): UDP_SEGMENT on send, UDP_GRO on receive (Linux >= 4.18 / 5.0). */
#define UDPN_OFFLOAD_GSO 1u
#define UDPN_OFFLOAD_GRO 2u

typedef struct udpn_io {
  int fd;
  int family; /* AF_INET or AF_INET6 */
  int connected;     /* connect()ed: sends carry no address (the meta port/addr words are unused) */
  int borrowed;      /* the slabs belong to a group (udpn_open_group) and are not freed here */
  unsigned slots;
  unsigned slot_bytes;
  uint8_t *recv_payload;           /* slots * slot_bytes */
  size_t recv_payload_len;         /* its size (every received datagram lies inside it) */
  struct mmsghdr *recv_msgs;       /* slots */
  struct iovec *recv_iov;          /* slots */
  struct sockaddr_storage *recv_addr; /* slots */
  struct mmsghdr *send_msgs;       /* UDPN_MAX_SLOTS */
  struct iovec *send_iov;          /* UDPN_MAX_SLOTS */
  struct sockaddr_storage *send_addr; /* UDPN_MAX_SLOTS */
  /* Offload (udp_offload.c). */
  int gso;                  /* UDP_SEGMENT runs are sent (off after the kernel refuses one) */
  unsigned gso_seg_max;     /* segments above this are not coalesced (lowered by EMSGSIZE) */
  int gro;                  /* UDP_GRO is set: receive messages are 64 KiB and split */
  unsigned recv_msgs_n;     /* messages per recvmmsg: slots, or fewer 64 KiB ones with GRO */
  uint8_t *recv_ctrl;       /* recv_msgs_n control buffers (the UDP_GRO segment size) */
  const uint8_t **recv_src; /* slots: where each datagram of the current batch starts */
  unsigned rx_n, rx_msg, rx_off; /* GRO: messages of the last recvmmsg, next message, offset in it */
  int rx_full;              /* GRO: the last recvmmsg filled every message (more may wait) */
  const void *owner_word;   /* whose GRO batch is in the receive slab (a group's is shared) */
  const void **owner;       /* &owner_word of the slab's owner: this io, or the group it borrows from */
  uint16_t *send_segs;      /* UDPN_MAX_SLOTS: datagrams in each prepared send message */
  uint8_t *send_ctrl;       /* UDPN_MAX_SLOTS control buffers (the UDP_SEGMENT size) */
} udpn_io;

typedef struct udpn_open_opts {
  const char *host;
  int port;
  int reuse_port;
  int recv_buffer_bytes; /* 0 = leave the kernel default */
  int send_buffer_bytes;
  unsigned slots;
  unsigned slot_bytes;
  unsigned offload; /* UDPN_OFFLOAD_* wanted (only what the kernel supports is used) */
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
int udpn_open_connected(udpn_io *io, const udpn_io *group, const char *host, int port, unsigned offload);
/* Textual local address and port; 0 or -errno. */
int udpn_local(const udpn_io *io, char *addr, unsigned addr_len, int *port);
/* Receives up to io->slots datagrams and fills meta (slots * UDPN_META_WORDS); datagram i starts
 * at io->recv_src[i]. Returns the count (0 when nothing is waiting) or -errno. *more is set when
 * another call may return datagrams at once (a full recvmmsg, or GRO runs not yet handed out). */
int udpn_recv(udpn_io *io, uint32_t *meta, int *more);
/* GRO datagrams already received and not yet handed out (udpn_recv returns them without a
 * system call); they are lost if another socket of the group receives first. */
int udpn_recv_pending(const udpn_io *io);
/* Sends count datagrams described by meta from payload; never blocks. */
udpn_send_result udpn_send(udpn_io *io, const uint8_t *payload, size_t payload_len,
                           uint32_t *meta, unsigned count);
/* inet_pton into 4 words; returns 4, 6 or 0 for not an address. */
int udpn_pton(const char *text, uint32_t words[4]);
/* inet_ntop of 4 words; 0 or -errno. */
int udpn_ntop(int family, const uint32_t words[4], char *out, unsigned out_len);

#endif
