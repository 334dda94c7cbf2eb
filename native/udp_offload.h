/*
 * UDP segmentation offload for the batched I/O of udp_io.c (no Node-API here).
 *
 * Send (GSO, UDP_SEGMENT, Linux >= 4.18): consecutive datagrams of one send batch that go to the
 * same destination, lie back to back in the payload slab and have the same size (the last may be
 * shorter) leave as one message with a UDP_SEGMENT control message; the kernel cuts it back into
 * those datagrams. Such messages go out in the same sendmmsg(2) as the single datagrams.
 * Receive (GRO, UDP_GRO, Linux >= 5.0): the kernel may hand over a run of datagrams of one flow as
 * one buffer with the segment size in a control message; udp_io.c splits it into datagrams.
 */
#ifndef UDPN_OFFLOAD_H
#define UDPN_OFFLOAD_H

#include <stdint.h>
#include <sys/socket.h>

#include "udp_io.h"

/* Mode when UDPGW_OFFLOAD is unset (see docs/performance.md, "UDP GSO and GRO"). */
#define UDPN_OFFLOAD_DEFAULT (UDPN_OFFLOAD_GSO | UDPN_OFFLOAD_GRO)

/* Segments per GSO send: the kernel refuses more than UDP_MAX_SEGMENTS with EINVAL
 * (net/ipv4/udp.c and net/ipv6/udp.c, udp_send_skb: datalen > gso_size * UDP_MAX_SEGMENTS).
 * UDP_MAX_SEGMENTS (include/linux/udp.h) is 1 << 6 = 64 from 4.18 on, 1 << 7 = 128 since 6.11
 * (commit 1382e3b6a350, also in the 5.15/6.1/6.6 stable series); 64 is safe on every kernel. */
#define UDPN_GSO_MAX_SEGS 64
/* Bytes per GSO send: before segmentation the run is one UDP datagram, so its payload is bounded
 * like any other: 65535 - 20 (IPv4 header) - 8 (UDP header) = 65507 (ip_append_data: EMSGSIZE
 * beyond). IPv6 would allow 65535 - 8 = 65527; 65507 serves both. */
#define UDPN_GSO_MAX_BYTES 65507
/* A UDP_GRO run is at most one IP datagram of 64 KiB (udp_gro_receive_segment), so a receive
 * buffer must hold 64 KiB or the kernel cuts the run (MSG_TRUNC) and its datagrams are lost. */
#define UDPN_GRO_MSG_BYTES 65536
/* A listener with GRO receives into at most this many 64 KiB messages per recvmmsg (4 MiB). */
#define UDPN_GRO_MSGS 64
/* Control buffer per message: one cmsg with an int (UDP_GRO) or a uint16_t (UDP_SEGMENT). */
#define UDPN_CTRL_BYTES CMSG_SPACE(sizeof(int))

typedef struct udpn_offload_stats {
  uint64_t gso_sends;     /* GSO messages the kernel took */
  uint64_t gso_datagrams; /* datagrams in them */
  uint64_t gso_fallbacks; /* GSO messages refused (EINVAL/EIO/EMSGSIZE) and sent again without */
  uint64_t gro_runs;      /* received GRO runs of two or more datagrams */
  uint64_t gro_datagrams; /* datagrams split out of them */
  int gso_last_errno;     /* errno of the last fallback */
} udpn_offload_stats;

/* What this kernel supports (UDPN_OFFLOAD_* bits); probed once on a throwaway socket. */
unsigned udpn_offload_supported(void);
/* Process-wide mode for sockets opened from now on (UDPN_OFFLOAD_* bits). */
void udpn_offload_set_mode(unsigned mode);
unsigned udpn_offload_mode(void);
/* Turns on what `wanted` asks and the kernel supports on io->fd: sets io->gso and io->gro.
 * gro_ok: the receive buffers can hold a 64 KiB run. */
void udpn_offload_socket(udpn_io *io, unsigned wanted, int gro_ok);
void udpn_offload_stats_get(udpn_offload_stats *out);
/* The errno of the first fallback in the process, once (then 0): for a one-time warning. */
int udpn_offload_take_warning(void);

/* udp_send.c: a GSO message was refused with err; decides what the socket does from now on. */
void udpn_gso_refused(udpn_io *io, int err, unsigned segment);
void udpn_gso_sent(unsigned messages, unsigned datagrams);
/* udp_io.c: a GRO run of `datagrams` (>= 2) was received. */
void udpn_gro_received(unsigned datagrams);
/* Segment size of a received message (its UDP_GRO cmsg), 0 if it is a single datagram. */
unsigned udpn_gro_segment(const struct msghdr *h);

/* Tests only: the next `count` GSO messages fail with `gso_errno` as if the kernel refused them
 * (0 = off); no_check sets SO_NO_CHECK on IPv4 sockets opened later, so that the kernel itself
 * refuses their GSO sends (EINVAL: udp_send_skb refuses GSO without checksums). */
void udpn_offload_test(int gso_errno, int count, int no_check);
/* A simulated refusal is pending; the errno to simulate for the GSO message about to be sent,
 * or 0 (consumes one). */
int udpn_gso_test_armed(void);
int udpn_gso_test_refusal(void);

#endif
