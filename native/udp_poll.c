/*
 * Event-loop side of the addon: a socket driven by a uv_poll_t on the node event loop.
 * One JS call per recvmmsg batch (onRead), one JS call per send batch (send), no per-packet JS
 * allocation in here: payloads of a batch are copied into a pooled Buffer (see recv_pool), metadata goes to a
 * Uint32Array shared with JS at construction.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <uv.h>

#include "udp_native.h"

napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, uv_strerror(-err));
  napi_throw_error(env, uv_err_name(-err), msg);
  return NULL;
}

static void maybe_free(sock *s) {
  if (s->finalized && !s->handle_open && !s->timer_open && !s->bound_fns) { flow_free(s); free(s); }
}

void bound_fn_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  sock *s = data;
  s->bound_fns--;
  maybe_free(s);
}

static void on_poll_closed(uv_handle_t *h) {
  sock *s = h->data;
  s->handle_open = 0;
  maybe_free(s);
}

static void on_timer_closed(uv_handle_t *h) {
  sock *s = h->data;
  close(s->timer_fd);
  s->timer_fd = -1;
  s->timer_open = 0;
  maybe_free(s);
}

/* Stops polling and closes the fd; safe from cleanup hooks (no JS calls). */
void close_native(sock *s) {
  if (s->closed) return;
  s->closed = 1;
  s->reading = 0;
  s->want_write = 0;
  s->coalescing = 0;
  flow_unpin_all(s); /* a listener: its sessions go on through JS */
  flow_unpin(s);     /* a session: its listener forgets it */
  if (s->handle_open) uv_close((uv_handle_t *)&s->poll, on_poll_closed); /* stops the poll first */
  if (s->timer_open) uv_close((uv_handle_t *)&s->timer_poll, on_timer_closed);
  udpn_close(&s->io);
}

void cleanup_hook(void *arg) { close_native(arg); }

/* References a socket still holds when it is finalized without close() (at environment teardown). */
static void drop_refs(napi_env env, sock *s) {
  napi_ref *refs[] = {&s->on_read, &s->on_writable, &s->recv_meta_ref, &s->send_payload_ref,
                      &s->send_meta_ref, &s->status_ref, &s->group_ref, &s->self};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    if (*refs[i]) napi_delete_reference(env, *refs[i]);
    *refs[i] = NULL;
  }
  release_pool(env, &s->own_pool);
  if (s->async) napi_async_destroy(env, s->async);
  s->async = NULL;
}

void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  sock *s = data;
  close_native(s);
  drop_refs(env, s);
  s->finalized = 1;
  maybe_free(s);
}

static void poll_cb(uv_poll_t *h, int status, int events);
static void stop_coalescing(sock *s);

int update_poll(sock *s) {
  if (s->closed) return 0;
  if (s->coalescing && !s->reading) stop_coalescing(s); /* paused: no more timed reads */
  /* While coalescing, the timer drives the reads: readable events would wake us per datagram. */
  int events = (s->reading && !s->coalescing ? UV_READABLE : 0) | (s->want_write ? UV_WRITABLE : 0);
  return events ? uv_poll_start(&s->poll, events, poll_cb) : uv_poll_stop(&s->poll);
}

static void call_js(sock *s, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, self, result;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok) return;
  if (napi_get_reference_value(env, s->self, &self) != napi_ok) return;
  if (napi_make_callback(env, s->async, self, fn, argc, argv, &result) == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err); /* same as a throw from an event handler: 'uncaughtException' */
  }
}

void release_pool(napi_env env, recv_pool *p) {
  if (p->ref) napi_delete_reference(env, p->ref);
  p->ref = NULL;
  p->data = NULL;
  p->len = p->used = 0;
}

/* Where a batch of `total` payload bytes goes: the pool (*buf, at *offset), or a Buffer of its own. */
static int pool_take(napi_env env, recv_pool *p, size_t total, napi_value *buf, size_t *offset, uint8_t **dst) {
  void *d;
  if (!p || total > UDPN_POOL_MAX_BATCH) {
    *offset = 0;
    if (napi_create_buffer(env, total, &d, buf) != napi_ok) return -1;
    *dst = d;
    return 0;
  }
  if (!p->ref || p->len - p->used < total) {
    release_pool(env, p);
    if (napi_create_buffer(env, UDPN_POOL_BYTES, &d, buf) != napi_ok) return -1;
    if (napi_create_reference(env, *buf, 1, &p->ref) != napi_ok) return -1;
    p->data = d;
    p->len = UDPN_POOL_BYTES;
  } else if (napi_get_reference_value(env, p->ref, buf) != napi_ok) {
    return -1;
  }
  *offset = p->used;
  *dst = p->data + p->used;
  p->used += total;
  return 0;
}

/* Copies the received payloads back to back into the pool (or one Buffer) and hands them to JS:
 * onRead(count, buffer, 0, offset). */
static void deliver(sock *s, int n) {
  napi_env env = s->env;
  size_t total = 0, offset = 0;
  for (int i = 0; i < n; i++) total += s->recv_meta[(size_t)i * UDPN_META_WORDS + UDPN_RECV_LEN];
  uint8_t *p;
  napi_value argv[4];
  if (pool_take(env, s->pool, total, &argv[1], &offset, &p) != 0) return;
  for (int i = 0; i < n; i++) {
    uint32_t len = s->recv_meta[(size_t)i * UDPN_META_WORDS + UDPN_RECV_LEN];
    memcpy(p, s->io.recv_src[i], len);
    p += len;
  }
  napi_create_int32(env, n, &argv[0]);
  napi_create_int32(env, 0, &argv[2]);
  napi_create_uint32(env, (uint32_t)offset, &argv[3]);
  call_js(s, s->on_read, 4, argv);
}

static void report_error(sock *s, int err) {
  napi_value argv[3];
  napi_create_int32(s->env, 0, &argv[0]);
  napi_get_undefined(s->env, &argv[1]);
  napi_create_int32(s->env, err, &argv[2]);
  call_js(s, s->on_read, 3, argv);
}

/* At most MAX_ROUNDS recvmmsg calls per wake-up; datagrams of GRO runs already received are all
 * handed out first (they wait in a slab that other sockets of a group may reuse). */
static unsigned on_readable(sock *s) {
  int round = 0, more = 1;
  unsigned got = 0;
  while (more && s->reading && !s->closed) {
    if (!udpn_recv_pending(&s->io) && round++ == MAX_ROUNDS) break;
    int n = udpn_recv(&s->io, s->recv_meta, &more);
    if (n < 0) { report_error(s, -n); break; }
    if (n > 0) {
      got += (unsigned)n;
      /* Flow offload (udp_flow.c): pinned clients' datagrams, or a pinned session's, leave here. */
      unsigned left = s->flows ? flow_forward(s, (unsigned)n) : s->flow_listener ? flow_reply(s, (unsigned)n) : (unsigned)n;
      if (left > 0) deliver(s, (int)left);
    }
  }
  return got;
}

/*
 * Receive coalescing, the software form of a NIC's interrupt moderation (ethtool rx-usecs): under
 * load the socket wakes up for every datagram or two, and the fixed cost of a wake-up (epoll, the
 * scheduler, the JS entry, one sendmmsg) is paid per datagram. A periodic timerfd read of the
 * socket every coalesce_us instead hands JS everything of one interval as one batch (one sendmmsg,
 * longer GSO runs). A timer tick costs about what a wake-up does, so it only pays while wake-ups
 * come faster than the ticks would; the mode is chosen on what was measured:
 *  - start: COALESCE_START_WAKEUPS readable wake-ups after a first one, less than half an
 *    interval apart on average (so ticks would at least halve the wake-ups). A burst read in one
 *    wake-up, or wake-ups spaced further apart (moderate rates), never start it: below that
 *    density the socket costs and behaves exactly as without coalescing (one clock read a wake-up).
 *  - stop: when the ticks find less than one datagram each on average (moving average over about
 *    four ticks): readable events would then wake up no more often than the timer does; and every
 *    COALESCE_PROBE_TICKS ticks, so that the rule above measures the wake-ups again (the load may
 *    have changed: coalescing resumes after COALESCE_START_WAKEUPS dense wake-ups if it still pays).
 * Added latency: at most coalesce_us, only while coalescing.
 */
static void timer_cb(uv_poll_t *h, int status, int events);

#define COALESCE_START_WAKEUPS 8
#define COALESCE_PROBE_TICKS 256
#define COALESCE_AVG_ONE 16        /* one datagram per tick, in the x16 average */
#define COALESCE_AVG_START (4 * COALESCE_AVG_ONE)

static uint64_t mono_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void set_timer(sock *s, unsigned us) {
  struct itimerspec t = {{us / 1000000u, (long)(us % 1000000u) * 1000}, {us / 1000000u, (long)(us % 1000000u) * 1000}};
  timerfd_settime(s->timer_fd, 0, &t, NULL);
}

static void start_coalescing(sock *s) {
  if (s->coalescing || s->closed || !s->reading || !s->timer_open) return;
  s->coalescing = 1;
  s->coalesce_starts++;
  s->tick_avg_x16 = COALESCE_AVG_START;
  s->ticks_left = COALESCE_PROBE_TICKS;
  set_timer(s, s->coalesce_us);
  uv_poll_start(&s->timer_poll, UV_READABLE, timer_cb);
  update_poll(s);
}

static void stop_coalescing(sock *s) {
  if (!s->coalescing) return;
  s->coalescing = 0;
  s->dense_wakeups = 0;
  set_timer(s, 0);
  uv_poll_stop(&s->timer_poll);
  if (!s->closed) {
    uint64_t expirations;
    ssize_t r = read(s->timer_fd, &expirations, sizeof expirations); /* a tick already due */
    (void)r;
  }
}

int setup_coalescing(sock *s, unsigned micros) {
  if (micros == 0) return 0;
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(s->env, &loop) != napi_ok) return -EINVAL;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) return -errno;
  int rc = uv_poll_init(loop, &s->timer_poll, fd);
  if (rc != 0) { close(fd); return rc; }
  s->timer_fd = fd;
  s->timer_poll.data = s;
  s->timer_open = 1;
  s->coalesce_us = micros;
  return 0;
}

/* A readable wake-up of a coalescing-capable socket. Every COALESCE_START_WAKEUPS wake-ups, were
 * they less than half an interval apart on average? Then a timer would at least halve the
 * wake-ups: start it. (An average, so that arrival jitter around a steady rate does not hide it.) */
static void readable_wakeup(sock *s, uint64_t began_ns) {
  if (s->dense_wakeups++ == 0) { s->window_start_ns = began_ns; return; }
  if (s->dense_wakeups <= COALESCE_START_WAKEUPS) return;
  uint64_t span = began_ns - s->window_start_ns;
  s->dense_wakeups = 1;
  s->window_start_ns = began_ns;
  if (span < (uint64_t)COALESCE_START_WAKEUPS * s->coalesce_us * 500u) start_coalescing(s);
}

static void timer_cb(uv_poll_t *h, int status, int events) {
  (void)events;
  sock *s = h->data;
  if (s->closed) return;
  uint64_t expirations;
  ssize_t r = read(s->timer_fd, &expirations, sizeof expirations);
  (void)r;
  if (status < 0 || !s->reading) { stop_coalescing(s); update_poll(s); return; }
  s->coalesce_ticks++;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  unsigned got = on_readable(s);
  unsigned sample = (got > 64 ? 64 : got) * COALESCE_AVG_ONE;
  s->tick_avg_x16 = (s->tick_avg_x16 * 3 + sample) / 4;
  if ((s->tick_avg_x16 < COALESCE_AVG_ONE || --s->ticks_left == 0) && s->coalescing) { stop_coalescing(s); update_poll(s); }
  napi_close_handle_scope(s->env, scope);
}

static void poll_cb(uv_poll_t *h, int status, int events) {
  sock *s = h->data;
  if (s->closed) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  if (status == UV_EBADF && !s->closed) {
    /* libuv reports POLLERR as UV_EBADF and stops the handle. On a connected UDP socket POLLERR is
     * a queued socket error (an ICMP port unreachable: ECONNREFUSED): read it (which clears it),
     * report it, and keep polling, so the socket goes on reading. */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->io.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = EBADF;
    update_poll(s);
    report_error(s, err);
  } else if (status < 0) report_error(s, -status);
  else {
    if (events & UV_READABLE) {
      uint64_t began = s->coalesce_us ? mono_ns() : 0;
      s->readable_wakeups++;
      on_readable(s);
      if (s->coalesce_us && !s->closed) readable_wakeup(s, began);
    }
    if ((events & UV_WRITABLE) && s->want_write && !s->closed) {
      s->want_write = 0;
      update_poll(s);
      call_js(s, s->on_writable, 0, NULL);
    }
  }
  napi_close_handle_scope(s->env, scope);
}
