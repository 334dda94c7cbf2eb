/*
 * JS surface of the addon: class UdpSocket and the pton/ntop helpers.
 *   new UdpSocket(opts, recvMeta: Uint32Array, sendPayload: Uint8Array, sendMeta: Uint32Array,
 *                 status: Int32Array, onRead(count, batch, errno, offset), onWritable())
 *   .local() -> [address, port]   .startReading()   .stopReading()
 *   .send(count) -> consumed (status[0] = refused, status[1] = errno of last refusal)
 *   .watchWritable()   .close()
 * UdpGroup / UdpSession (connected session sockets sharing slabs): see udp_group.c.
 * TagMac (HMAC-SHA256 for tags): see tag_mac.c.
 * setOffload(mode) / offload() (UDP GSO and GRO): see offload_js.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>
#include <uv.h>

#include "udp_native.h"
#include "udp_offload.h"

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

const napi_type_tag udpn_listener_tag = {0x7564706e6c69736eull, 0x74656e6572736f63ull};
const napi_type_tag udpn_session_tag = {0x7564706e73657373ull, 0x696f6e736f636b74ull};

static int32_t get_int_prop(napi_env env, napi_value obj, const char *name, int32_t dflt) {
  napi_value v;
  napi_valuetype t;
  int32_t out = dflt;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return dflt;
  if (napi_typeof(env, v, &t) != napi_ok) return dflt;
  if (t == napi_number) napi_get_value_int32(env, v, &out);
  else if (t == napi_boolean) { bool b = false; napi_get_value_bool(env, v, &b); out = b; }
  return out;
}

static int typed_data(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, length, data, &ab, &off) != napi_ok || type != want) return -1;
  return 0;
}

sock *unwrap_this(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "not a UdpSocket");
    return NULL;
  }
  return data;
}

static napi_value read_options(napi_env env, napi_value opts, udpn_open_opts *o, char *host, size_t host_len) {
  napi_value hv;
  size_t hl;
  CHECK(napi_get_named_property(env, opts, "host", &hv));
  if (napi_get_value_string_utf8(env, hv, host, host_len, &hl) != napi_ok) {
    napi_throw_type_error(env, NULL, "opts.host must be a string");
    return NULL;
  }
  o->host = host;
  o->port = get_int_prop(env, opts, "port", 0);
  o->reuse_port = get_int_prop(env, opts, "reusePort", 0);
  o->recv_buffer_bytes = get_int_prop(env, opts, "recvBufferBytes", 0);
  o->send_buffer_bytes = get_int_prop(env, opts, "sendBufferBytes", 0);
  o->slots = (unsigned)get_int_prop(env, opts, "slots", 0);
  o->slot_bytes = (unsigned)get_int_prop(env, opts, "slotBytes", 0);
  o->offload = udpn_offload_mode();
  return opts;
}

static napi_value take_arrays(napi_env env, sock *s, napi_value *argv) {
  void *d;
  size_t n;
  if (typed_data(env, argv[1], napi_uint32_array, &d, &n) || n < (size_t)s->io.slots * UDPN_META_WORDS) goto bad;
  s->recv_meta = d;
  if (typed_data(env, argv[2], napi_uint8_array, &d, &n)) goto bad;
  s->send_payload = d; s->send_payload_len = n;
  if (typed_data(env, argv[3], napi_uint32_array, &d, &n)) goto bad;
  s->send_meta = d; s->send_meta_words = n;
  if (typed_data(env, argv[4], napi_int32_array, &d, &n) || n < 2) goto bad;
  s->status = d;
  s->pool = &s->own_pool;
  CHECK(napi_create_reference(env, argv[1], 1, &s->recv_meta_ref));
  CHECK(napi_create_reference(env, argv[2], 1, &s->send_payload_ref));
  CHECK(napi_create_reference(env, argv[3], 1, &s->send_meta_ref));
  CHECK(napi_create_reference(env, argv[4], 1, &s->status_ref));
  CHECK(napi_create_reference(env, argv[5], 1, &s->on_read));
  CHECK(napi_create_reference(env, argv[6], 1, &s->on_writable));
  return argv[0];
bad:
  napi_throw_type_error(env, NULL, "bad slab arguments");
  return NULL;
}

static napi_value bind_send(napi_env env, sock *s, napi_value self);

napi_value attach_poll(napi_env env, sock *s, napi_value self) {
  napi_value name;
  uv_loop_t *loop;
  s->env = env;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init_socket(loop, &s->poll, s->io.fd);
  if (rc != 0) return throw_errno(env, "uv_poll_init", -rc);
  s->poll.data = s;
  s->handle_open = 1;
  CHECK(napi_create_string_utf8(env, "UdpNativeSocket", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, self, name, &s->async));
  CHECK(napi_create_reference(env, self, 1, &s->self)); /* alive while open */
  CHECK(napi_add_env_cleanup_hook(env, cleanup_hook, s));
  return bind_send(env, s, self);
}

static napi_value construct(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7], self;
  char host[128];
  udpn_open_opts o;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 7) { napi_throw_type_error(env, NULL, "UdpSocket needs 7 arguments"); return NULL; }
  if (!read_options(env, argv[0], &o, host, sizeof host)) return NULL;
  sock *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, "alloc", ENOMEM);
  int rc = udpn_open(&s->io, &o);
  if (rc != 0) { free(s); return throw_errno(env, "bind", -rc); }
  if (napi_wrap(env, self, s, finalize, NULL, NULL) != napi_ok) { udpn_close(&s->io); free(s); return NULL; }
  /* From here the finalizer owns s. */
  if (napi_type_tag_object(env, self, &udpn_listener_tag) != napi_ok) { close_native(s); return NULL; }
  if (!take_arrays(env, s, argv) || !attach_poll(env, s, self)) { close_native(s); return NULL; }
  int32_t micros = get_int_prop(env, argv[0], "coalesceMicros", 0);
  if (micros < 0 || micros > 1000000) {
    close_native(s);
    napi_throw_range_error(env, NULL, "coalesceMicros must be 0..1000000");
    return NULL;
  }
  rc = setup_coalescing(s, (unsigned)micros);
  if (rc != 0) { close_native(s); return throw_errno(env, "timerfd", -rc); }
  return self;
}

/* [times coalescing began, timer wake-ups, 1 while coalescing, readable wake-ups]: receive
 * coalescing at work. */
static napi_value m_coalescing(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  sock *s = unwrap_this(env, info, &argc, NULL);
  if (!s) return NULL;
  napi_value arr, v;
  CHECK(napi_create_array_with_length(env, 4, &arr));
  CHECK(napi_create_double(env, s->coalesce_starts, &v));
  CHECK(napi_set_element(env, arr, 0, v));
  CHECK(napi_create_double(env, s->coalesce_ticks, &v));
  CHECK(napi_set_element(env, arr, 1, v));
  CHECK(napi_create_int32(env, s->coalescing, &v));
  CHECK(napi_set_element(env, arr, 2, v));
  CHECK(napi_create_double(env, s->readable_wakeups, &v));
  CHECK(napi_set_element(env, arr, 3, v));
  return arr;
}

static napi_value m_local(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  sock *s = unwrap_this(env, info, &argc, NULL);
  if (!s) return NULL;
  if (s->closed) return throw_errno(env, "local", EBADF);
  char addr[64];
  int port;
  int rc = udpn_local(&s->io, addr, sizeof addr, &port);
  if (rc != 0) return throw_errno(env, "getsockname", -rc);
  napi_value arr, a, p;
  CHECK(napi_create_array_with_length(env, 2, &arr));
  CHECK(napi_create_string_utf8(env, addr, NAPI_AUTO_LENGTH, &a));
  CHECK(napi_create_int32(env, port, &p));
  CHECK(napi_set_element(env, arr, 0, a));
  CHECK(napi_set_element(env, arr, 1, p));
  return arr;
}

static napi_value set_reading(napi_env env, napi_callback_info info, int on) {
  size_t argc = 0;
  sock *s = unwrap_this(env, info, &argc, NULL);
  if (!s || s->closed) return NULL;
  s->reading = on;
  int rc = update_poll(s);
  if (rc != 0) return throw_errno(env, "uv_poll_start", -rc);
  return NULL;
}

static napi_value m_start(napi_env env, napi_callback_info info) { return set_reading(env, info, 1); }
static napi_value m_stop(napi_env env, napi_callback_info info) { return set_reading(env, info, 0); }

static napi_value m_watch_writable(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  sock *s = unwrap_this(env, info, &argc, NULL);
  if (!s || s->closed) return NULL;
  s->want_write = 1;
  int rc = update_poll(s);
  if (rc != 0) return throw_errno(env, "uv_poll_start", -rc);
  return NULL;
}

static napi_value send_count(napi_env env, sock *s, size_t argc, napi_value *argv) {
  napi_value out;
  uint32_t count = 0;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "send(count)");
    return NULL;
  }
  if (s->finalized) { /* a `send` kept after its socket was collected: its arrays are gone */
    CHECK(napi_create_uint32(env, 0, &out));
    return out;
  }
  udpn_send_result r = {0, 0, 0};
  if (!s->closed) {
    if (count > s->send_meta_words / UDPN_META_WORDS) count = (uint32_t)(s->send_meta_words / UDPN_META_WORDS);
    r = udpn_send(&s->io, s->send_payload, s->send_payload_len, s->send_meta, count);
  }
  s->status[0] = (int32_t)r.refused;
  s->status[1] = r.last_errno;
  warn_gso_fallback(env);
  CHECK(napi_create_uint32(env, r.consumed, &out));
  return out;
}

static napi_value m_send(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  sock *s = unwrap_this(env, info, &argc, argv);
  return s ? send_count(env, s, argc, argv) : NULL;
}

/* The socket's own `send`, bound to its struct: no napi_unwrap per call (a private-symbol lookup,
 * measured at ~800 instructions, 7% of the gateway's user-space work per wake-up at one datagram). */
static napi_value m_send_bound(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok || data == NULL) return NULL;
  return send_count(env, data, argc, argv);
}

/* Gives `self` its own `send` with s as its data; the struct outlives the function (bound_fn_finalize). */
static napi_value bind_send(napi_env env, sock *s, napi_value self) {
  napi_value fn;
  CHECK(napi_create_function(env, "send", NAPI_AUTO_LENGTH, m_send_bound, s, &fn));
  CHECK(napi_add_finalizer(env, fn, s, bound_fn_finalize, NULL, NULL));
  s->bound_fns++;
  /* Defined, not assigned: the prototype's read-only method would refuse an assignment, silently. */
  napi_property_descriptor own = {"send", NULL, NULL, NULL, NULL, fn, napi_default, NULL};
  CHECK(napi_define_properties(env, self, 1, &own));
  return self;
}

static void release(napi_env env, napi_ref *ref) {
  if (*ref) napi_delete_reference(env, *ref);
  *ref = NULL;
}

static napi_value m_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  sock *s = unwrap_this(env, info, &argc, NULL);
  if (!s || s->closed) return NULL;
  close_native(s);
  napi_remove_env_cleanup_hook(env, cleanup_hook, s);
  if (s->async) napi_async_destroy(env, s->async);
  s->async = NULL;
  release(env, &s->on_read); release(env, &s->on_writable); release(env, &s->recv_meta_ref);
  release(env, &s->send_payload_ref); release(env, &s->send_meta_ref); release(env, &s->status_ref);
  release(env, &s->group_ref);
  release_pool(env, &s->own_pool);
  release(env, &s->self);
  return NULL;
}

static napi_value f_pton(napi_env env, napi_callback_info info) {
  size_t argc = 2, len;
  napi_value argv[2], out;
  char text[INET6_ADDRSTRLEN_SAFE];
  void *words;
  size_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int family = 0;
  if (argc == 2 && napi_get_value_string_utf8(env, argv[0], text, sizeof text, &len) == napi_ok &&
      len < sizeof text - 1 && typed_data(env, argv[1], napi_uint32_array, &words, &n) == 0 && n >= 4)
    family = udpn_pton(text, words);
  CHECK(napi_create_int32(env, family, &out));
  return out;
}

static napi_value f_ntop(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  int32_t family = 0;
  void *words;
  size_t n;
  char text[INET6_ADDRSTRLEN_SAFE];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_int32(env, argv[0], &family) != napi_ok ||
      typed_data(env, argv[1], napi_uint32_array, &words, &n) != 0 || n < 4 ||
      udpn_ntop(family, words, text, sizeof text) != 0) {
    napi_throw_type_error(env, NULL, "ntop(family, Uint32Array(4))");
    return NULL;
  }
  CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
    {"local", NULL, m_local, NULL, NULL, NULL, napi_default, NULL},
    {"startReading", NULL, m_start, NULL, NULL, NULL, napi_default, NULL},
    {"stopReading", NULL, m_stop, NULL, NULL, NULL, napi_default, NULL},
    {"send", NULL, m_send, NULL, NULL, NULL, napi_default, NULL},
    {"watchWritable", NULL, m_watch_writable, NULL, NULL, NULL, napi_default, NULL},
    {"close", NULL, m_close, NULL, NULL, NULL, napi_default, NULL},
  };
  const size_t base = sizeof methods / sizeof methods[0];
  napi_property_descriptor listener_methods[base + 3];
  memcpy(listener_methods, methods, sizeof methods);
  listener_methods[base] =
    (napi_property_descriptor){"coalescing", NULL, m_coalescing, NULL, NULL, NULL, napi_default, NULL};
  memcpy(listener_methods + base + 1, flow_listener_methods, sizeof flow_listener_methods);
  napi_value cls, fn, v;
  CHECK(napi_define_class(env, "UdpSocket", NAPI_AUTO_LENGTH, construct, NULL,
                          sizeof listener_methods / sizeof listener_methods[0], listener_methods, &cls));
  CHECK(napi_set_named_property(env, exports, "UdpSocket", cls));
  if (!define_group_classes(env, exports, sizeof methods / sizeof methods[0], methods)) return NULL;
  if (!define_tag_mac(env, exports)) return NULL;
  if (!define_offload(env, exports)) return NULL;
  CHECK(napi_create_function(env, "pton", NAPI_AUTO_LENGTH, f_pton, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "pton", fn));
  CHECK(napi_create_function(env, "ntop", NAPI_AUTO_LENGTH, f_ntop, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "ntop", fn));
  CHECK(napi_create_function(env, "monotonicMs", NAPI_AUTO_LENGTH, f_monotonic_ms, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "monotonicMs", fn));
  CHECK(napi_create_uint32(env, UDPN_META_WORDS, &v));
  CHECK(napi_set_named_property(env, exports, "META_WORDS", v));
  CHECK(napi_create_uint32(env, UDPN_MAX_SLOTS, &v));
  CHECK(napi_set_named_property(env, exports, "MAX_SLOTS", v));
  return exports;
}
