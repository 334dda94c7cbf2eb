/*
 * Session sockets for the udp proxy destination: many connected sockets that share one receive
 * slab and one send slab (a group), so that 10,000 sessions cost 10,000 fds, not 10,000 slabs.
 *   new UdpGroup({slots, slotBytes}, recvMeta: Uint32Array, sendPayload: Uint8Array,
 *                sendMeta: Uint32Array, status: Int32Array)
 *   new UdpSession(group, host, port, onRead(count, batch, errno, offset), onWritable())
 * A UdpSession has the methods of UdpSocket; send(count) sends datagrams 0..count-1 of the group's
 * send slab to the connected peer (the meta port word of a refused one is set to its errno).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>

#include "udp_native.h"
#include "udp_offload.h"

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  return napi_get_typedarray_info(env, v, &type, length, data, &ab, &off) != napi_ok || type != want ? -1 : 0;
}

static void group_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  group *g = data;
  for (int i = 0; i < 4; i++) if (g->refs[i]) napi_delete_reference(env, g->refs[i]);
  release_pool(env, &g->pool);
  udpn_close(&g->io); /* fd -1: frees the slabs */
  free(g);
}

static int group_arrays(napi_env env, group *g, napi_value *argv) {
  void *d;
  size_t n;
  if (typed(env, argv[1], napi_uint32_array, &d, &n) || n < (size_t)g->io.slots * UDPN_META_WORDS) return -1;
  g->recv_meta = d;
  if (typed(env, argv[2], napi_uint8_array, &d, &n)) return -1;
  g->send_payload = d; g->send_payload_len = n;
  if (typed(env, argv[3], napi_uint32_array, &d, &n)) return -1;
  g->send_meta = d; g->send_meta_words = n;
  if (typed(env, argv[4], napi_int32_array, &d, &n) || n < 2) return -1;
  g->status = d;
  for (int i = 0; i < 4; i++) if (napi_create_reference(env, argv[i + 1], 1, &g->refs[i]) != napi_ok) return -1;
  return 0;
}

static napi_value group_construct(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], self, v;
  uint32_t slots = 0, slot_bytes = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 5) { napi_throw_type_error(env, NULL, "UdpGroup needs 5 arguments"); return NULL; }
  if (napi_get_named_property(env, argv[0], "slots", &v) == napi_ok) napi_get_value_uint32(env, v, &slots);
  if (napi_get_named_property(env, argv[0], "slotBytes", &v) == napi_ok) napi_get_value_uint32(env, v, &slot_bytes);
  group *g = calloc(1, sizeof *g);
  if (!g) return throw_errno(env, "alloc", ENOMEM);
  int rc = udpn_open_group(&g->io, slots, slot_bytes);
  if (rc != 0) { free(g); return throw_errno(env, "UdpGroup", -rc); }
  if (napi_wrap(env, self, g, group_finalize, NULL, NULL) != napi_ok) { udpn_close(&g->io); free(g); return NULL; }
  if (group_arrays(env, g, argv) != 0) { napi_throw_type_error(env, NULL, "bad slab arguments"); return NULL; }
  return self;
}

static napi_value session_refs(napi_env env, sock *s, group *g, napi_value *argv) {
  s->recv_meta = g->recv_meta;
  s->send_payload = g->send_payload; s->send_payload_len = g->send_payload_len;
  s->send_meta = g->send_meta; s->send_meta_words = g->send_meta_words;
  s->status = g->status;
  s->pool = &g->pool;
  CHECK(napi_create_reference(env, argv[0], 1, &s->group_ref));
  CHECK(napi_create_reference(env, argv[3], 1, &s->on_read));
  CHECK(napi_create_reference(env, argv[4], 1, &s->on_writable));
  return argv[0];
}

static napi_value session_construct(napi_env env, napi_callback_info info) {
  size_t argc = 5, hl;
  napi_value argv[5], self;
  char host[INET6_ADDRSTRLEN_SAFE];
  int32_t port = 0;
  void *data = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 5 || napi_unwrap(env, argv[0], &data) != napi_ok || data == NULL ||
      napi_get_value_string_utf8(env, argv[1], host, sizeof host, &hl) != napi_ok ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok) {
    napi_throw_type_error(env, NULL, "UdpSession(group, host, port, onRead, onWritable)");
    return NULL;
  }
  group *g = data;
  sock *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, "alloc", ENOMEM);
  int rc = udpn_open_connected(&s->io, &g->io, host, port, udpn_offload_mode());
  if (rc != 0) { udpn_close(&s->io); free(s); return throw_errno(env, "connect", -rc); }
  if (napi_wrap(env, self, s, finalize, NULL, NULL) != napi_ok) { udpn_close(&s->io); free(s); return NULL; }
  /* From here the finalizer owns s. */
  if (napi_type_tag_object(env, self, &udpn_session_tag) != napi_ok) { close_native(s); return NULL; }
  if (!session_refs(env, s, g, argv) || !attach_poll(env, s, self)) { close_native(s); return NULL; }
  return self;
}

napi_value define_group_classes(napi_env env, napi_value exports, size_t n, const napi_property_descriptor *methods) {
  napi_value cls;
  CHECK(napi_define_class(env, "UdpGroup", NAPI_AUTO_LENGTH, group_construct, NULL, 0, NULL, &cls));
  CHECK(napi_set_named_property(env, exports, "UdpGroup", cls));
  napi_property_descriptor all[16];
  size_t extra = sizeof flow_session_methods / sizeof flow_session_methods[0];
  if (n + extra > sizeof all / sizeof all[0]) return NULL;
  memcpy(all, methods, n * sizeof *methods);
  memcpy(all + n, flow_session_methods, sizeof flow_session_methods);
  CHECK(napi_define_class(env, "UdpSession", NAPI_AUTO_LENGTH, session_construct, NULL, n + extra, all, &cls));
  CHECK(napi_set_named_property(env, exports, "UdpSession", cls));
  return exports;
}
