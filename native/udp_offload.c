/* UDP GSO/GRO support, mode, counters and the test hooks (see udp_offload.h). */
#define _GNU_SOURCE
#include "udp_offload.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* include/uapi/linux/udp.h */
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Process-wide: the mode comes from one environment variable, the kernel is the same for every
 * socket, and the counters are diagnostics (relaxed atomics: worker threads may share them). */
static unsigned mode = UDPN_OFFLOAD_DEFAULT;
static int supported = -1;
static udpn_offload_stats stats;
static int warning_errno, warned;
static int test_errno, test_count, test_no_check;

#define ADD(field, n) __atomic_add_fetch(&stats.field, (uint64_t)(n), __ATOMIC_RELAXED)

unsigned udpn_offload_supported(void) {
  int s = __atomic_load_n(&supported, __ATOMIC_RELAXED);
  if (s >= 0) return (unsigned)s;
  unsigned bits = 0;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    int v = 0, one = 1;
    socklen_t len = sizeof v;
    /* Reading UDP_SEGMENT changes nothing; ENOPROTOOPT before 4.18. */
    if (getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0) bits |= UDPN_OFFLOAD_GSO;
    if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0) bits |= UDPN_OFFLOAD_GRO;
    close(fd);
  }
  __atomic_store_n(&supported, (int)bits, __ATOMIC_RELAXED);
  return bits;
}

void udpn_offload_set_mode(unsigned m) { __atomic_store_n(&mode, m & (UDPN_OFFLOAD_GSO | UDPN_OFFLOAD_GRO), __ATOMIC_RELAXED); }
unsigned udpn_offload_mode(void) { return __atomic_load_n(&mode, __ATOMIC_RELAXED); }

void udpn_offload_socket(udpn_io *io, unsigned wanted, int gro_ok) {
  unsigned can = wanted & udpn_offload_supported();
  int one = 1;
  io->gso = (can & UDPN_OFFLOAD_GSO) ? 1 : 0;
  io->gso_seg_max = UDPN_GSO_MAX_BYTES / 2;
  io->gro = (can & UDPN_OFFLOAD_GRO) && gro_ok &&
            setsockopt(io->fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  if (__atomic_load_n(&test_no_check, __ATOMIC_RELAXED) && io->family == AF_INET)
    (void)setsockopt(io->fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one);
}

void udpn_offload_stats_get(udpn_offload_stats *out) {
  out->gso_sends = __atomic_load_n(&stats.gso_sends, __ATOMIC_RELAXED);
  out->gso_datagrams = __atomic_load_n(&stats.gso_datagrams, __ATOMIC_RELAXED);
  out->gso_fallbacks = __atomic_load_n(&stats.gso_fallbacks, __ATOMIC_RELAXED);
  out->gro_runs = __atomic_load_n(&stats.gro_runs, __ATOMIC_RELAXED);
  out->gro_datagrams = __atomic_load_n(&stats.gro_datagrams, __ATOMIC_RELAXED);
  out->gso_last_errno = __atomic_load_n(&stats.gso_last_errno, __ATOMIC_RELAXED);
}

int udpn_offload_take_warning(void) {
  int err = __atomic_load_n(&warning_errno, __ATOMIC_RELAXED);
  if (err == 0 || __atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED)) return 0;
  return err;
}

void udpn_gso_refused(udpn_io *io, int err, unsigned segment) {
  ADD(gso_fallbacks, 1);
  __atomic_store_n(&stats.gso_last_errno, err, __ATOMIC_RELAXED);
  int none = 0;
  __atomic_compare_exchange_n(&warning_errno, &none, err, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  /* EMSGSIZE (newer kernels; older ones say EINVAL): a segment longer than the route's MTU allows; plain sends of that
   * size are fragmented instead, so only segments this long stop being coalesced. EINVAL and EIO
   * (no checksum offload, IPsec, SO_NO_CHECK, an older kernel's MTU check): GSO off for the socket. */
  if (err == EMSGSIZE && segment > 1) io->gso_seg_max = segment - 1;
  else io->gso = 0;
}

void udpn_gso_sent(unsigned messages, unsigned datagrams) {
  ADD(gso_sends, messages);
  ADD(gso_datagrams, datagrams);
}

void udpn_gro_received(unsigned datagrams) {
  ADD(gro_runs, 1);
  ADD(gro_datagrams, datagrams);
}

unsigned udpn_gro_segment(const struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
    if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO || c->cmsg_len < CMSG_LEN(sizeof(int))) continue;
    int v;
    memcpy(&v, CMSG_DATA(c), sizeof v);
    return v > 0 ? (unsigned)v : 0;
  }
  return 0;
}

void udpn_offload_test(int gso_errno, int count, int no_check) {
  __atomic_store_n(&test_errno, gso_errno, __ATOMIC_RELAXED);
  __atomic_store_n(&test_count, gso_errno ? count : 0, __ATOMIC_RELAXED);
  __atomic_store_n(&test_no_check, no_check, __ATOMIC_RELAXED);
}

int udpn_gso_test_armed(void) { return __atomic_load_n(&test_count, __ATOMIC_RELAXED) > 0; }

int udpn_gso_test_refusal(void) {
  if (__atomic_load_n(&test_count, __ATOMIC_RELAXED) <= 0) return 0;
  if (__atomic_sub_fetch(&test_count, 1, __ATOMIC_RELAXED) < 0) return 0;
  return __atomic_load_n(&test_errno, __ATOMIC_RELAXED);
}
