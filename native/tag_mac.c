/*
 * HMAC-SHA256 for tags, in one addon call per tag (Node's createHmac costs several µs a call in
 * object set-up alone). The key's inner and outer pad states are computed once per TagMac, so a
 * tag of up to 55 bytes costs two SHA-256 compressions.
 *   new TagMac(key: Uint8Array)
 *   .sign(buf: Uint8Array, len, macLen): writes HMAC(key, buf[0..len)) truncated to macLen (<= 32)
 *     bytes at buf[len..len+macLen)
 * SHA-256 per FIPS 180-4, HMAC per RFC 2104; checked against RFC 4231 and node:crypto in
 * test/core/tag.test.ts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <node_api.h>

#include "udp_native.h"

#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

typedef struct { uint32_t h[8]; } sha_state;

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t H0[8] = {
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress(sha_state *s, const uint8_t *block) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

/* Absorbs `len` bytes after `prefix` bytes already compressed (a multiple of 64), pads, and
 * writes the 32-byte digest. */
static void finish(sha_state s, uint64_t prefix, const uint8_t *data, size_t len, uint8_t out[32]) {
  uint8_t block[64];
  uint64_t bits = (prefix + len) * 8;
  while (len >= 64) { compress(&s, data); data += 64; len -= 64; }
  memcpy(block, data, len);
  block[len++] = 0x80;
  if (len > 56) { memset(block + len, 0, 64 - len); compress(&s, block); len = 0; }
  memset(block + len, 0, 56 - len);
  for (int i = 0; i < 8; i++) block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
  compress(&s, block);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(s.h[i] >> 24); out[4 * i + 1] = (uint8_t)(s.h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(s.h[i] >> 8); out[4 * i + 3] = (uint8_t)s.h[i];
  }
}

typedef struct { sha_state inner, outer; } tag_mac;

static void mac_init(tag_mac *m, const uint8_t *key, size_t len) {
  uint8_t k[64] = {0}, pad[64];
  sha_state s;
  if (len > 64) { memcpy(s.h, H0, sizeof H0); finish(s, 0, key, len, k); } else memcpy(k, key, len);
  memcpy(m->inner.h, H0, sizeof H0);
  memcpy(m->outer.h, H0, sizeof H0);
  for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
  compress(&m->inner, pad);
  for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
  compress(&m->outer, pad);
}

static void mac_sign(const tag_mac *m, const uint8_t *data, size_t len, uint8_t out[32]) {
  uint8_t inner[32];
  finish(m->inner, 64, data, len, inner);
  finish(m->outer, 64, inner, 32, out);
}

static int bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  void *d;
  if (napi_get_typedarray_info(env, v, &type, len, &d, &ab, &off) != napi_ok || type != napi_uint8_array) return -1;
  *data = d;
  return 0;
}

static void mac_finalize(napi_env env, void *data, void *hint) { (void)env; (void)hint; free(data); }

static napi_value mac_construct(napi_env env, napi_callback_info info) {
  size_t argc = 1, len;
  napi_value argv[1], self;
  uint8_t *key;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 1 || bytes(env, argv[0], &key, &len) != 0) { napi_throw_type_error(env, NULL, "TagMac(key: Uint8Array)"); return NULL; }
  tag_mac *m = malloc(sizeof *m);
  if (!m) { napi_throw_error(env, "ENOMEM", "TagMac: out of memory"); return NULL; }
  mac_init(m, key, len);
  if (napi_wrap(env, self, m, mac_finalize, NULL, NULL) != napi_ok) { free(m); return NULL; }
  return self;
}

static napi_value mac_sign_js(napi_env env, napi_callback_info info) {
  size_t argc = 3, size;
  napi_value argv[3], self;
  uint8_t *buf, digest[32];
  uint32_t len = 0, mac_len = 0;
  void *m = NULL;
  CHECK(napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  if (argc < 3 || napi_unwrap(env, self, &m) != napi_ok || m == NULL || bytes(env, argv[0], &buf, &size) != 0 ||
      napi_get_value_uint32(env, argv[1], &len) != napi_ok || napi_get_value_uint32(env, argv[2], &mac_len) != napi_ok ||
      mac_len > 32 || (size_t)len + mac_len > size) {
    napi_throw_range_error(env, NULL, "sign(buf: Uint8Array, len, macLen <= 32) with len + macLen <= buf.length");
    return NULL;
  }
  mac_sign(m, buf, len, digest);
  memcpy(buf + len, digest, mac_len);
  return NULL;
}

napi_value define_tag_mac(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {{"sign", NULL, mac_sign_js, NULL, NULL, NULL, napi_default, NULL}};
  napi_value cls;
  CHECK(napi_define_class(env, "TagMac", NAPI_AUTO_LENGTH, mac_construct, NULL, 1, methods, &cls));
  CHECK(napi_set_named_property(env, exports, "TagMac", cls));
  return exports;
}
