/*
 * Batched UDP load tools for bench/transport.ts and bench/side-by-side.ts, loopback only
 * (127.0.0.1), bounded in time and count.
 *   udpbench gen  <port> <size> <seconds> [max_packets] [rate] [flows] [gso] [smooth]
 *                 send with sendmmsg(64) as fast as possible (rate 0), or open loop at `rate`
 *                 datagrams/s with a timestamp in every datagram; from `flows` sockets (source
 *                 ports, so SO_REUSEPORT groups spread them), round robin per batch; gso > 1:
 *                 each message is a UDP_SEGMENT (GSO) run of `gso` datagrams of `size` (at most
 *                 64 and 65507 bytes, the kernel's limits), as QUIC stacks send; smooth 1: the
 *                 sender's timer slack is 1 ns instead of the default 50 us, so its 20 us naps
 *                 end on time and an open-loop rate leaves as single datagrams spaced evenly (as
 *                 many independent clients send) rather than in bursts every ~70 us
 *   udpbench sink <seconds>                                bind 127.0.0.1:0, print "port N", then the
 *                                                          running received count every 100 ms; at the
 *                                                          end "lat <n> <p50_us> <p99_us> <max_us>" for
 *                                                          timestamped datagrams (one-way latency, to
 *                                                          the sink's read), and "klat ..." the same to
 *                                                          the kernel's receive timestamp (SO_TIMESTAMPNS:
 *                                                          taken when the proxy's send reached loopback,
 *                                                          so the sink's own wake-up and scheduling,
 *                                                          the harness's noise, are not in it);
 *                                                          SIGTERM ends it early, still printing all
 *   udpbench fwd  <sink_port> <seconds>                    recvmmsg/sendmmsg forwarder (reference):
 *                                                          prints "port N", then counts like sink
 * Built at bench time with `cc -O2`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 2048
#define MAX_FLOWS 64
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define GSO_MAX_SEGS 64      /* UDP_MAX_SEGMENTS on kernels before 6.11 */
#define GSO_MAX_BYTES 65507  /* one UDP datagram before segmentation (65535 - 20 - 8) */
/* Timestamped datagrams start with this 8-byte marker, then CLOCK_MONOTONIC ns (host order). */
#define MAGIC 0x55475742454e4348ULL /* "UGWBENCH" */
#define HIST_US 200000 /* one-way latency histogram: 1 us buckets up to 200 ms, then overflow */

static volatile sig_atomic_t stop_now, reset_latency;
static void on_term(int sig) { (void)sig; stop_now = 1; }
static void on_usr1(int sig) { (void)sig; reset_latency = 1; } /* the sink starts its latency histogram anew */
typedef struct { unsigned long long b[HIST_US + 1]; long n; } histogram;
static histogram hist, khist; /* to the sink's read; to the kernel's receive timestamp */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

static void add(histogram *h, long long ns) {
  long long us = ns < 0 ? 0 : ns / 1000LL;
  h->b[us > HIST_US ? HIST_US : us]++;
  h->n++;
}

/* A timestamped datagram: its one-way latency to now, and to `kernel_ns` (its receive timestamp on
 * CLOCK_MONOTONIC; 0: none). */
static void record_latency(const char *buf, unsigned len, unsigned long long kernel_ns) {
  unsigned long long magic, ts;
  if (len < 16) return;
  memcpy(&magic, buf, 8);
  if (magic != MAGIC) return;
  memcpy(&ts, buf + 8, 8);
  add(&hist, (long long)(now_ns() - ts));
  if (kernel_ns) add(&khist, (long long)(kernel_ns - ts));
}

static long hist_percentile(const histogram *h, double p) {
  unsigned long long want = (unsigned long long)(p * (double)h->n), seen = 0;
  for (long i = 0; i <= HIST_US; i++) { seen += h->b[i]; if (seen > want) return i; }
  return HIST_US;
}

static void print_hist(const char *name, const histogram *h) {
  long max = 0;
  for (long i = 0; i <= HIST_US; i++) if (h->b[i]) max = i;
  printf("%s %ld %ld %ld %ld\n", name, h->n, h->n ? hist_percentile(h, 0.5) : -1, h->n ? hist_percentile(h, 0.99) : -1, h->n ? max : -1);
}

static void print_latency(void) {
  print_hist("lat", &hist);
  print_hist("klat", &khist);
}

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, in ns: the kernel's receive timestamps are on the former. */
static long long realtime_offset_ns(void) {
  struct timespec r, m;
  clock_gettime(CLOCK_REALTIME, &r);
  clock_gettime(CLOCK_MONOTONIC, &m);
  return ((long long)r.tv_sec - (long long)m.tv_sec) * 1000000000LL + ((long long)r.tv_nsec - (long long)m.tv_nsec);
}

/* The receive timestamp of a message (SO_TIMESTAMPNS) on CLOCK_MONOTONIC; 0 if it has none. */
static unsigned long long kernel_stamp(struct msghdr *h, long long offset) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec t;
      memcpy(&t, CMSG_DATA(c), sizeof t);
      return (unsigned long long)((long long)t.tv_sec * 1000000000LL + t.tv_nsec - offset);
    }
  }
  return 0;
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static int bound_socket(int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0), sz = 8 << 20;
  struct sockaddr_in a = loopback(port);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); exit(1); }
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  printf("port %d\n", ntohs(a.sin_port));
  fflush(stdout);
  return fd;
}

/* rate 0: as fast as sendmmsg takes them; rate > 0: open loop, timestamped, checked every ~20 us.
 * segs > 1: every message is a GSO run of segs datagrams (the payload holds segs copies). */
static int gen(int port, int size, double seconds, long max, double rate, int flows, int segs) {
  static char payload[GSO_MAX_BYTES];
  static char ctrl[BATCH][CMSG_SPACE(sizeof(uint16_t))];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in dst = loopback(port);
  int fds[MAX_FLOWS];
  if (segs < 1) segs = 1;
  if (segs > GSO_MAX_SEGS) segs = GSO_MAX_SEGS;
  if (size < (rate > 0 ? 16 : 1) || size > SLOT || flows < 1 || flows > MAX_FLOWS) return 2;
  while (segs > 1 && segs * size > GSO_MAX_BYTES) segs--;
  for (int i = 0; i < flows; i++) fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
  memset(payload, 'x', sizeof payload);
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload; iov[i].iov_len = (size_t)size * (size_t)segs;
    msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &dst; msgs[i].msg_hdr.msg_namelen = sizeof dst;
    if (segs > 1) {
      uint16_t seg = (uint16_t)size;
      msgs[i].msg_hdr.msg_control = ctrl[i]; msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i];
      struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr);
      c->cmsg_level = SOL_UDP; c->cmsg_type = UDP_SEGMENT; c->cmsg_len = CMSG_LEN(sizeof seg);
      memcpy(CMSG_DATA(c), &seg, sizeof seg);
    }
  }
  long sent = 0, round = 0;
  double start = now(), end = start + seconds;
  unsigned long long magic = MAGIC;
  if (rate > 0) for (int k = 0; k < segs; k++) memcpy(payload + (size_t)k * size, &magic, 8);
  for (double t = start; sent < max && t < end; t = now()) {
    int want = BATCH; /* messages */
    if (rate > 0) {
      long due = (long)((t - start) * rate);
      if (due > max) due = max;
      if (due - sent < segs) { struct timespec w = { 0, 20000 }; nanosleep(&w, NULL); continue; }
      want = (due - sent) / segs < BATCH ? (int)((due - sent) / segs) : BATCH;
      unsigned long long ts = now_ns();
      /* every datagram of this batch shares the buffer and the time */
      for (int k = 0; k < segs; k++) memcpy(payload + (size_t)k * size + 8, &ts, 8);
    }
    int n = sendmmsg(fds[round++ % flows], msgs, (unsigned)want, 0);
    if (n > 0) sent += (long)n * segs;
  }
  printf("sent %ld\n", sent);
  return 0;
}

/* Receives until `seconds` pass; fwd_port > 0 forwards every batch there with sendmmsg. */
static int recv_loop(int fwd_port, double seconds) {
  static char buf[BATCH][SLOT];
  static char ctrl[BATCH][CMSG_SPACE(sizeof(struct timespec))];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in dst = loopback(fwd_port);
  int fd = bound_socket(0), on = 1;
  if (fwd_port == 0) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  long count = 0;
  double end = now() + seconds, next_print = now() + 0.1;
  struct pollfd p = { fd, POLLIN, 0 };
  signal(SIGTERM, on_term); /* SIGTERM ends the loop early; the final count and latency still print */
  signal(SIGUSR1, on_usr1);
  while (now() < end && !stop_now) {
    if (reset_latency) { memset(&hist, 0, sizeof hist); memset(&khist, 0, sizeof khist); reset_latency = 0; printf("reset\n"); fflush(stdout); }
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = buf[i]; iov[i].iov_len = SLOT;
      msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
      if (fwd_port == 0) { msgs[i].msg_hdr.msg_control = ctrl[i]; msgs[i].msg_hdr.msg_controllen = sizeof ctrl[i]; }
    }
    if (poll(&p, 1, 20) > 0) {
      int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
      if (n > 0) {
        count += n;
        if (fwd_port == 0) {
          long long offset = realtime_offset_ns();
          for (int i = 0; i < n; i++) record_latency(buf[i], msgs[i].msg_len, kernel_stamp(&msgs[i].msg_hdr, offset));
        }
        if (fwd_port > 0) {
          for (int i = 0; i < n; i++) {
            iov[i].iov_len = msgs[i].msg_len;
            msgs[i].msg_hdr.msg_name = &dst; msgs[i].msg_hdr.msg_namelen = sizeof dst;
          }
          for (int done = 0; done < n;) { int k = sendmmsg(fd, msgs + done, n - done, 0); if (k <= 0) break; done += k; }
        }
      }
    }
    if (now() >= next_print) { printf("count %ld\n", count); fflush(stdout); next_print += 0.1; }
  }
  printf("count %ld\n", count);
  if (fwd_port == 0) print_latency();
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 9 && atoi(argv[9]) == 1) prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  if (argc >= 5 && strcmp(argv[1], "gen") == 0)
    return gen(atoi(argv[2]), atoi(argv[3]), atof(argv[4]), argc > 5 ? atol(argv[5]) : 100000000L,
               argc > 6 ? atof(argv[6]) : 0, argc > 7 ? atoi(argv[7]) : 1, argc > 8 ? atoi(argv[8]) : 1);
  if (argc >= 3 && strcmp(argv[1], "sink") == 0) return recv_loop(0, atof(argv[2]));
  if (argc >= 4 && strcmp(argv[1], "fwd") == 0) return recv_loop(atoi(argv[2]), atof(argv[3]));
  fprintf(stderr, "usage: udpbench gen <port> <size> <seconds> [max] [rate] [flows] [gso] [smooth] | sink <seconds> (SIGUSR1: reset latency) | fwd <sink_port> <seconds>\n");
  return 2;
}
