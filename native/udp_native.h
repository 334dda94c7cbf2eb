/* Shared between udp_poll.c (event loop side) and udp_native.c (JS surface). */
#ifndef UDPN_NATIVE_H
#define UDPN_NATIVE_H

#include <node_api.h>
#include <uv.h>

#include "udp_io.h"

#define INET6_ADDRSTRLEN_SAFE 64

/* recvmmsg rounds per readable wake-up before yielding to the loop (epoll is level-triggered). */
#define MAX_ROUNDS 8

/* Received payloads of small batches are copied into a shared pool Buffer (a new one only when the
 * current one is full), so the garbage collector sweeps one ArrayBuffer per pool chunk instead of
 * one per recvmmsg batch (at a few datagrams per batch that sweep was most of a scavenge's pause).
 * A chunk lives as long as any packet in it is referenced, like node's own Buffer pool. */
#define UDPN_POOL_BYTES (64 * 1024)
#define UDPN_POOL_MAX_BATCH (UDPN_POOL_BYTES / 4) /* larger batches get a Buffer of their own */
typedef struct recv_pool {
  napi_ref ref;
  uint8_t *data;
  size_t len, used;
} recv_pool;

/* A session's flow state (sock.flow_state), shared with JS: pinned (1/0), packets and bytes each way
 * since the pin, when it last forwarded each way (CLOCK_MONOTONIC ms, 0: never), the errno of its
 * last unpin by the addon (EAGAIN, a refusal, EMSGSIZE; 0: none). */
enum { FLOW_PINNED, FLOW_IN_PACKETS, FLOW_IN_BYTES, FLOW_OUT_PACKETS, FLOW_OUT_BYTES, FLOW_IN_MS, FLOW_OUT_MS, FLOW_ERRNO, FLOW_WORDS };

typedef struct sock {
  napi_env env;
  udpn_io io;
  uv_poll_t poll;
  napi_ref self, on_read, on_writable, recv_meta_ref, send_payload_ref, send_meta_ref, status_ref;
  napi_ref group_ref; /* a session socket: the UdpGroup whose slabs it borrows */
  napi_async_context async;
  uint32_t *recv_meta;
  uint8_t *send_payload;
  size_t send_payload_len;
  uint32_t *send_meta;
  size_t send_meta_words;
  int32_t *status; /* [refused by last send, errno of last refusal] */
  recv_pool own_pool; /* a listener socket's pool */
  recv_pool *pool;    /* &own_pool, or the group's for a session socket */
  int reading, want_write, closed, handle_open, finalized;
  /* Receive coalescing (a listener's `receiveCoalesceMicros`, udp_poll.c): once readable wake-ups
   * come densely (COALESCE_START_WAKEUPS less than half an interval apart on average), the
   * socket is read on a timer every coalesce_us instead of on each readable event, until the ticks
   * find less than one datagram each on average. timer_fd -1 / coalesce_us 0: off. */
  int timer_fd;
  uv_poll_t timer_poll;
  int timer_open, coalescing;
  unsigned coalesce_us;
  unsigned dense_wakeups;  /* readable wake-ups in the current measuring window */
  unsigned tick_avg_x16;   /* datagrams per tick, moving average (x16) */
  unsigned ticks_left;     /* until the wake-ups are measured again */
  uint64_t window_start_ns; /* when its first wake-up began */
  double coalesce_starts, coalesce_ticks, readable_wakeups; /* counters, for tests and benchmarks */
  int bound_fns; /* alive and bound to this struct: its own `send` (no unwrap per call), a session's flowState arrays */
  /* Flow offload (udp_flow.c). A session socket pinned to a listener: the listener forwards its
   * client's datagrams to it, and it sends its backend's back to the client from the listener. */
  struct sock *flow_listener; /* session: the listener it is pinned to, NULL when not pinned */
  struct sock *flow_next;     /* session: next in the listener's bucket */
  uint32_t flow_key[6];       /* session: the client: family (4|6), port, address words */
  int flow_first, flow_last;  /* session: its datagrams in the batch being forwarded (chain) */
  /* session: what it forwarded since its last pin, FLOW_* words; JS reads it in place (flowState()),
   * so reading thousands of flows is no addon call each */
  double flow_state[FLOW_WORDS];
  struct flow_table *flows;   /* listener: its pinned sessions, by client */
} sock;

/* Slabs (receive buffers, send headers) and the JS arrays shared by the session sockets of one
 * group. All their calls run on the one JS thread and finish before returning, so one set serves
 * any number of sockets; a session socket keeps its group alive until it is closed. */
typedef struct group {
  udpn_io io; /* fd -1: slabs only */
  napi_ref refs[4];
  uint32_t *recv_meta;
  uint8_t *send_payload;
  size_t send_payload_len;
  uint32_t *send_meta;
  size_t send_meta_words;
  int32_t *status;
  recv_pool pool; /* shared by the group's sessions, like the slabs */
} group;

napi_value throw_errno(napi_env env, const char *what, int err);
/* The socket a method was called on (its `this`); NULL with a TypeError thrown if it is none. */
sock *unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv);
/* Stops polling and closes the fd; safe from cleanup hooks (no JS calls). */
void close_native(sock *s);
void cleanup_hook(void *arg);
void release_pool(napi_env env, recv_pool *p);
void finalize(napi_env env, void *data, void *hint);
/* Finalizer of what is bound to a socket's struct (its own `send`, a session's flowState arrays):
 * the struct may be freed once they and it are gone. */
void bound_fn_finalize(napi_env env, void *data, void *hint);
int update_poll(sock *s);
/* Sets up receive coalescing on a listener socket (before reading starts); 0 or -errno. */
int setup_coalescing(sock *s, unsigned micros);
/* Polls s->io.fd on the env's loop and keeps the JS object alive while open (udp_native.c). */
napi_value attach_poll(napi_env env, sock *s, napi_value self);
/* Flow offload (udp_flow.c). 0 or -errno (EINVAL: families differ; EBUSY: the client has one). */
int flow_pin(sock *listener, sock *session, const uint32_t key[6]);
void flow_unpin(sock *session);
/* Unpins every session of a listener (it closes, or its pipeline changed). */
void flow_unpin_all(sock *listener);
/* After a listener's receive of n datagrams: forwards those of pinned clients, leaves the rest
 * (in order) at the front of recv_meta / recv_src for JS; returns how many are left. */
unsigned flow_forward(sock *listener, unsigned n);
/* After a pinned session's receive: sends its datagrams to the client from the listener; returns
 * how many are left for JS (those the listener could not take at once). */
unsigned flow_reply(sock *session, unsigned n);
/* Listener totals since it opened: [flows, in packets, in bytes, out packets, out bytes,
 * out refused, handed back to JS]. */
void flow_totals(const sock *listener, double out[7]);
void flow_free(sock *listener);
/* CLOCK_MONOTONIC in ms (the flows' last-activity times). */
double flow_now_ms(void);
extern const napi_property_descriptor flow_session_methods[4];
/* monotonicMs(): the flows' clock, for JS (flow_js.c). */
napi_value f_monotonic_ms(napi_env env, napi_callback_info info);
extern const napi_property_descriptor flow_listener_methods[2];
/* Type tags of listener sockets and session sockets (a pin checks what it is given). */
extern const napi_type_tag udpn_listener_tag, udpn_session_tag;
/* Registers UdpGroup and UdpSession (udp_group.c); sessions get the given socket methods. */
/* Registers TagMac, HMAC-SHA256 for tags (tag_mac.c). */
napi_value define_tag_mac(napi_env env, napi_value exports);
/* Registers setOffload and offload (offload_js.c). */
napi_value define_offload(napi_env env, napi_value exports);
/* After a send: the first GSO fallback of the process becomes one process warning. */
void warn_gso_fallback(napi_env env);
napi_value define_group_classes(napi_env env, napi_value exports, size_t n, const napi_property_descriptor *methods);

#endif
