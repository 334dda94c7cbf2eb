/*
 * Batched UDP load tools for bench/transport.ts, loopback only (127.0.0.1), bounded in time.
 *   udpbench gen  <port> <size> <seconds> [max_packets]  send with sendmmsg(64) as fast as possible
 *   udpbench sink <seconds>                                bind 127.0.0.1:0, print "port N", then the
 *                                                          running received count every 100 ms
 *   udpbench fwd  <sink_port> <seconds>                    recvmmsg/sendmmsg forwarder (reference):
 *                                                          prints "port N", then counts like sink
 * Built at bench time with `cc -O2`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define SLOT 2048

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
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

static int gen(int port, int size, double seconds, long max) {
  static char payload[SLOT];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in dst = loopback(port);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (size < 1 || size > SLOT) return 2;
  memset(payload, 'x', sizeof payload);
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload; iov[i].iov_len = (size_t)size;
    msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &dst; msgs[i].msg_hdr.msg_namelen = sizeof dst;
  }
  long sent = 0;
  double end = now() + seconds;
  while (sent < max && now() < end) {
    int n = sendmmsg(fd, msgs, BATCH, 0);
    if (n > 0) sent += n;
  }
  printf("sent %ld\n", sent);
  return 0;
}

/* Receives until `seconds` pass; fwd_port > 0 forwards every batch there with sendmmsg. */
static int recv_loop(int fwd_port, double seconds) {
  static char buf[BATCH][SLOT];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in dst = loopback(fwd_port);
  int fd = bound_socket(0);
  long count = 0;
  double end = now() + seconds, next_print = now() + 0.1;
  struct pollfd p = { fd, POLLIN, 0 };
  while (now() < end) {
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = buf[i]; iov[i].iov_len = SLOT;
      msgs[i].msg_hdr.msg_iov = &iov[i]; msgs[i].msg_hdr.msg_iovlen = 1;
    }
    if (poll(&p, 1, 20) > 0) {
      int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
      if (n > 0) {
        count += n;
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
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "gen") == 0)
    return gen(atoi(argv[2]), atoi(argv[3]), atof(argv[4]), argc > 5 ? atol(argv[5]) : 100000000L);
  if (argc >= 3 && strcmp(argv[1], "sink") == 0) return recv_loop(0, atof(argv[2]));
  if (argc >= 4 && strcmp(argv[1], "fwd") == 0) return recv_loop(atoi(argv[2]), atof(argv[3]));
  fprintf(stderr, "usage: udpbench gen <port> <size> <seconds> [max] | sink <seconds> | fwd <sink_port> <seconds>\n");
  return 2;
}
