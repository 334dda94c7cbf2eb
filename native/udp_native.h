/* Shared between udp_poll.c (event loop side) and udp_native.c (JS surface). */
#ifndef UDPN_NATIVE_H
#define UDPN_NATIVE_H

#include <node_api.h>
#include <uv.h>

#include "udp_io.h"

#define INET6_ADDRSTRLEN_SAFE 64

/* recvmmsg rounds per readable wake-up before yielding to the loop (epoll is level-triggered). */
#define MAX_ROUNDS 8

typedef struct sock {
  napi_env env;
  udpn_io io;
  uv_poll_t poll;
  napi_ref self, on_read, on_writable, recv_meta_ref, send_payload_ref, send_meta_ref, status_ref;
  napi_async_context async;
  uint32_t *recv_meta;
  uint8_t *send_payload;
  size_t send_payload_len;
  uint32_t *send_meta;
  size_t send_meta_words;
  int32_t *status; /* [refused by last send, errno of last refusal] */
  int reading, want_write, closed, handle_open, finalized;
} sock;

napi_value throw_errno(napi_env env, const char *what, int err);
/* Stops polling and closes the fd; safe from cleanup hooks (no JS calls). */
void close_native(sock *s);
void cleanup_hook(void *arg);
void finalize(napi_env env, void *data, void *hint);
int update_poll(sock *s);

#endif
