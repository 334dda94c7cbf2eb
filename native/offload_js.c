/*
 * JS surface of the UDP offload (udp_offload.h), process-wide:
 *   setOffload(mode?: string, test?: {gsoErrno?, count?, noCheck?}) -> offload()
 *       mode 'off' | 'gso' | 'gro' | 'all' for sockets opened from now on; unset or anything else
 *       is the default. `test` arms the test hooks (udpn_offload_test); without it they are off.
 *   offload() -> {mode, gso, gro, gsoSends, gsoDatagrams, gsoFallbacks, gsoLastErrno, groRuns,
 *                 groDatagrams}: gso/gro say whether new sockets use it (wanted and supported).
 * The first GSO fallback of the process becomes one process.emitWarning (UDPGW_GSO_FALLBACK).
 */
#include <stdio.h>
#include <string.h>
#include <node_api.h>
#include <uv.h>

#include "udp_native.h"
#include "udp_offload.h"

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

static const char *const MODES[] = {"off", "gso", "gro", "all"}; /* index = UDPN_OFFLOAD_* bits */

static int32_t int_prop(napi_env env, napi_value obj, const char *name) {
  napi_value v;
  napi_valuetype t;
  int32_t out = 0;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_number) napi_get_value_int32(env, v, &out);
  else if (t == napi_boolean) { bool b = false; napi_get_value_bool(env, v, &b); out = b; }
  return out;
}

static napi_value set_prop(napi_env env, napi_value obj, const char *name, napi_value v) {
  return napi_set_named_property(env, obj, name, v) == napi_ok ? obj : NULL;
}

static napi_value number(napi_env env, napi_value obj, const char *name, double d) {
  napi_value v;
  CHECK(napi_create_double(env, d, &v));
  return set_prop(env, obj, name, v);
}

static napi_value flag(napi_env env, napi_value obj, const char *name, bool b) {
  napi_value v;
  CHECK(napi_get_boolean(env, b, &v));
  return set_prop(env, obj, name, v);
}

static napi_value f_offload(napi_env env, napi_callback_info info) {
  (void)info;
  udpn_offload_stats st;
  udpn_offload_stats_get(&st);
  unsigned mode = udpn_offload_mode(), used = mode & udpn_offload_supported();
  napi_value out, m;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, MODES[mode & 3], NAPI_AUTO_LENGTH, &m));
  if (!set_prop(env, out, "mode", m) || !flag(env, out, "gso", used & UDPN_OFFLOAD_GSO) ||
      !flag(env, out, "gro", used & UDPN_OFFLOAD_GRO) ||
      !number(env, out, "gsoSends", (double)st.gso_sends) ||
      !number(env, out, "gsoDatagrams", (double)st.gso_datagrams) ||
      !number(env, out, "gsoFallbacks", (double)st.gso_fallbacks) ||
      !number(env, out, "gsoLastErrno", st.gso_last_errno) ||
      !number(env, out, "groRuns", (double)st.gro_runs) ||
      !number(env, out, "groDatagrams", (double)st.gro_datagrams)) return NULL;
  return out;
}

static napi_value f_set_offload(napi_env env, napi_callback_info info) {
  size_t argc = 2, len = 0;
  napi_value argv[2];
  napi_valuetype t = napi_undefined;
  char text[16] = "";
  unsigned mode = UDPN_OFFLOAD_DEFAULT;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1 && napi_typeof(env, argv[0], &t) == napi_ok && t == napi_string &&
      napi_get_value_string_utf8(env, argv[0], text, sizeof text, &len) == napi_ok) {
    for (unsigned i = 0; i < 4; i++) if (strcmp(text, MODES[i]) == 0) mode = i;
  }
  udpn_offload_set_mode(mode);
  if (argc >= 2 && napi_typeof(env, argv[1], &t) == napi_ok && t == napi_object)
    udpn_offload_test(int_prop(env, argv[1], "gsoErrno"), int_prop(env, argv[1], "count"), int_prop(env, argv[1], "noCheck"));
  else udpn_offload_test(0, 0, 0);
  return f_offload(env, info);
}

void warn_gso_fallback(napi_env env) {
  int err = udpn_offload_take_warning();
  if (err == 0) return;
  char msg[256];
  snprintf(msg, sizeof msg, "udp GSO refused by the kernel (%s): that socket sends without it from now on "
           "(warned once per process; counted in offload().gsoFallbacks)", uv_err_name(-err));
  napi_value global, process, fn, argv[3], result, ignored;
  if (napi_get_global(env, &global) != napi_ok ||
      napi_get_named_property(env, global, "process", &process) != napi_ok ||
      napi_get_named_property(env, process, "emitWarning", &fn) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &argv[0]) != napi_ok ||
      napi_create_string_utf8(env, "UdpOffloadWarning", NAPI_AUTO_LENGTH, &argv[1]) != napi_ok ||
      napi_create_string_utf8(env, "UDPGW_GSO_FALLBACK", NAPI_AUTO_LENGTH, &argv[2]) != napi_ok) return;
  if (napi_call_function(env, process, fn, 3, argv, &result) == napi_pending_exception)
    napi_get_and_clear_last_exception(env, &ignored);
}

napi_value define_offload(napi_env env, napi_value exports) {
  napi_value fn;
  CHECK(napi_create_function(env, "setOffload", NAPI_AUTO_LENGTH, f_set_offload, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "setOffload", fn));
  CHECK(napi_create_function(env, "offload", NAPI_AUTO_LENGTH, f_offload, NULL, &fn));
  CHECK(napi_set_named_property(env, exports, "offload", fn));
  return exports;
}
