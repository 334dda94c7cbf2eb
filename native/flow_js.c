/*
 * JS surface of flow offload (udp_flow.c):
 *   session.pin(listener, key: Uint32Array(6) [family 4|6, port, address words 0..3]) -> 0 | -errno
 *   session.unpin()
 *   session.flow([out: Float64Array(8)]) -> [pinned, in packets, in bytes, out packets, out bytes,
 *                      ms since last in (-1: never), ms since last out, errno of the last unpin]
 *                     (counts since the last pin; they stay readable after an unpin)
 *   session.flowState() -> Float64Array(8) over the session's flow state, updated in place by the
 *                     addon: [pinned, in packets, in bytes, out packets, out bytes, CLOCK_MONOTONIC
 *                     ms of the last in (0: never), of the last out, errno of the last unpin]
 *   monotonicMs()    -> CLOCK_MONOTONIC in ms
 *   listener.flowTotals() -> [pinned flows, in packets, in bytes, out packets, out bytes,
 *                             out refused, handed back to JS]   (since the socket opened)
 *   listener.unpinAll()
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <node_api.h>

#include "udp_native.h"

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

static napi_value int_value(napi_env env, int32_t v) {
  napi_value out;
  CHECK(napi_create_int32(env, v, &out));
  return out;
}

static napi_value doubles(napi_env env, const double *v, unsigned n) {
  napi_value arr, x;
  CHECK(napi_create_array_with_length(env, n, &arr));
  for (unsigned i = 0; i < n; i++) {
    CHECK(napi_create_double(env, v[i], &x));
    CHECK(napi_set_element(env, arr, i, x));
  }
  return arr;
}

static napi_value m_pin(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  sock *u = unwrap_this(env, info, &argc, argv);
  if (!u) return NULL;
  void *l = NULL, *words = NULL;
  napi_typedarray_type type;
  size_t len = 0;
  napi_value ab;
  size_t off;
  bool listener = false, session = false;
  napi_value self;
  if (napi_get_cb_info(env, info, NULL, NULL, &self, NULL) != napi_ok ||
      napi_check_object_type_tag(env, self, &udpn_session_tag, &session) != napi_ok || !session ||
      argc < 2 || napi_check_object_type_tag(env, argv[0], &udpn_listener_tag, &listener) != napi_ok || !listener ||
      napi_unwrap(env, argv[0], &l) != napi_ok || l == NULL ||
      napi_get_typedarray_info(env, argv[1], &type, &len, &words, &ab, &off) != napi_ok ||
      type != napi_uint32_array || len < 6) {
    napi_throw_type_error(env, NULL, "pin(listener: UdpSocket, key: Uint32Array(6))");
    return NULL;
  }
  return int_value(env, flow_pin(l, u, words));
}

static napi_value m_unpin(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  sock *u = unwrap_this(env, info, &argc, NULL);
  if (u) flow_unpin(u);
  return NULL;
}

static double ms_since(double then, double now) {
  return then == 0 ? -1 : now - then;
}

/* flow([out: Float64Array(8)]): one reading, with times as ms since (tests and diagnostics; the
 * gateway reads flowState() in place). */
static napi_value m_flow(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  sock *u = unwrap_this(env, info, &argc, argv);
  if (!u) return NULL;
  const double *st = u->flow_state, now = flow_now_ms();
  double v[8] = {st[FLOW_PINNED], st[FLOW_IN_PACKETS], st[FLOW_IN_BYTES], st[FLOW_OUT_PACKETS], st[FLOW_OUT_BYTES],
                 ms_since(st[FLOW_IN_MS], now), ms_since(st[FLOW_OUT_MS], now), st[FLOW_ERRNO]};
  napi_valuetype t = napi_undefined;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (t == napi_undefined) return doubles(env, v, 8);
  napi_typedarray_type type;
  size_t len = 0, off;
  void *data = NULL;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[0], &type, &len, &data, &ab, &off) != napi_ok || type != napi_float64_array || len < 8) {
    napi_throw_type_error(env, NULL, "flow(out?: Float64Array(8))");
    return NULL;
  }
  memcpy(data, v, sizeof v);
  return argv[0];
}

static void state_finalize(napi_env env, void *data, void *hint) {
  (void)data;
  bound_fn_finalize(env, hint, NULL);
}

/* flowState(): a Float64Array(FLOW_WORDS) over the session's flow state itself (udp_native.h), which
 * the addon updates as it forwards: JS reads a flow with no call (the idle sweep, the recent-clients
 * refresh and status read every flow; an addon call each was ~350-900 ns, a stall of the loop at
 * 100,000 sessions). The struct outlives the array (bound_fns). */
static napi_value m_flow_state(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  sock *u = unwrap_this(env, info, &argc, NULL);
  if (!u) return NULL;
  napi_value ab, arr;
  CHECK(napi_create_external_arraybuffer(env, u->flow_state, sizeof u->flow_state, state_finalize, u, &ab));
  u->bound_fns++;
  CHECK(napi_create_typedarray(env, napi_float64_array, FLOW_WORDS, ab, 0, &arr));
  return arr;
}

/* monotonicMs(): CLOCK_MONOTONIC in ms, the clock of the flow state's times. */
napi_value f_monotonic_ms(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_double(env, flow_now_ms(), &out));
  return out;
}

static napi_value m_flow_totals(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  sock *l = unwrap_this(env, info, &argc, NULL);
  if (!l) return NULL;
  double v[7];
  flow_totals(l, v);
  return doubles(env, v, 7);
}

static napi_value m_unpin_all(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  sock *l = unwrap_this(env, info, &argc, NULL);
  if (l) flow_unpin_all(l);
  return NULL;
}

const napi_property_descriptor flow_session_methods[4] = {
  {"pin", NULL, m_pin, NULL, NULL, NULL, napi_default, NULL},
  {"unpin", NULL, m_unpin, NULL, NULL, NULL, napi_default, NULL},
  {"flow", NULL, m_flow, NULL, NULL, NULL, napi_default, NULL},
  {"flowState", NULL, m_flow_state, NULL, NULL, NULL, napi_default, NULL},
};

const napi_property_descriptor flow_listener_methods[2] = {
  {"flowTotals", NULL, m_flow_totals, NULL, NULL, NULL, napi_default, NULL},
  {"unpinAll", NULL, m_unpin_all, NULL, NULL, NULL, napi_default, NULL},
};
