/*
 * Flow offload: the datagrams of an open udp proxy session forwarded by the addon itself, without
 * entering JS (the kernel's "flowtable" fast path, for one process). A listener socket keeps a
 * table of pinned session sockets by client address. After each receive on the listener, the
 * datagrams of pinned clients go straight to their session's connected socket (udpn_send: one
 * sendmmsg per session, GSO runs where the datagrams allow); after each receive on a pinned
 * session socket, its backend's datagrams go straight back to the client from the listener's
 * socket. Everything else reaches JS exactly as before.
 *
 * The addon only forwards what the kernel takes at once. A datagram it cannot forward cleanly
 * (the target socket would block or has a JS backlog, a refusal, a truncated datagram) unpins the
 * session and goes to JS with the session's later datagrams, so that the JS path, which has the
 * backlogs and the error handling, takes over in order; JS pins the session again when it qualifies.
 * JS reads what was forwarded (each session's flow state in place, flowTotals()) for its sessions'
 * timeouts and its metrics.
 *
 * JS surface: flow_js.c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <node_api.h>

#include "udp_native.h"

#define W UDPN_META_WORDS
#define FIRST_BUCKETS 64u

enum { T_FLOWS, T_IN_PACKETS, T_IN_BYTES, T_OUT_PACKETS, T_OUT_BYTES, T_OUT_REFUSED, T_HANDED_BACK, T_COUNT };

typedef struct flow_table {
  sock **buckets;
  unsigned nbuckets, count, slots;
  sock **match;     /* slots: the pinned session of datagram i of the batch, or NULL (to JS) */
  int32_t *next;    /* slots: the same session's next datagram index in the batch, -1 */
  sock **touched;   /* slots: sessions with datagrams in the batch, in order of their first */
  int32_t *index;   /* UDPN_MAX_SLOTS: batch index of the k-th datagram of one send */
  uint32_t *meta;   /* UDPN_MAX_SLOTS * W: send metadata of one session's datagrams */
  uint8_t *payload; /* FLOW_COPY_BYTES: one session's datagrams back to back, so they can leave as GSO runs */
  double totals[T_COUNT];
} flow_table;

/* Datagrams received into separate slots are copied back to back before a send on a socket with
 * GSO, as the JS sender copies them into its slab: consecutive ones of one size then leave as one
 * UDP_SEGMENT message (without the copy every datagram is a message of its own, and the kernel's
 * cost per datagram doubled at bursts of 64). In chunks of this many bytes. */
#define FLOW_COPY_BYTES (256u * 1024u)

double flow_now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static unsigned hash_key(const uint32_t k[6]) {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 6; i++) { h ^= k[i]; h *= 0xff51afd7ed558ccdull; h ^= h >> 29; }
  return (unsigned)h;
}

static sock *lookup(const flow_table *t, const uint32_t k[6]) {
  for (sock *u = t->buckets[hash_key(k) & (t->nbuckets - 1)]; u; u = u->flow_next)
    if (memcmp(u->flow_key, k, sizeof u->flow_key) == 0) return u;
  return NULL;
}

static int grow(flow_table *t) {
  unsigned n = t->nbuckets * 2;
  sock **b = calloc(n, sizeof *b);
  if (!b) return -ENOMEM;
  for (unsigned i = 0; i < t->nbuckets; i++) {
    for (sock *u = t->buckets[i], *next; u; u = next) {
      next = u->flow_next;
      unsigned h = hash_key(u->flow_key) & (n - 1);
      u->flow_next = b[h];
      b[h] = u;
    }
  }
  free(t->buckets);
  t->buckets = b;
  t->nbuckets = n;
  return 0;
}

void flow_free(sock *l) {
  flow_table *t = l->flows;
  if (!t) return;
  flow_unpin_all(l);
  free(t->buckets); free(t->match); free(t->next); free(t->touched); free(t->index); free(t->meta); free(t->payload);
  free(t);
  l->flows = NULL;
}

static flow_table *table_of(sock *l) {
  if (l->flows) return l->flows;
  flow_table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->slots = l->io.slots;
  t->nbuckets = FIRST_BUCKETS;
  t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
  t->match = calloc(t->slots, sizeof *t->match);
  t->next = calloc(t->slots, sizeof *t->next);
  t->touched = calloc(t->slots, sizeof *t->touched);
  t->index = calloc(UDPN_MAX_SLOTS, sizeof *t->index);
  t->meta = calloc((size_t)UDPN_MAX_SLOTS * W, sizeof *t->meta);
  t->payload = malloc(FLOW_COPY_BYTES);
  l->flows = t;
  if (!t->buckets || !t->match || !t->next || !t->touched || !t->index || !t->meta || !t->payload) { flow_free(l); return NULL; }
  return t;
}

int flow_pin(sock *l, sock *u, const uint32_t key[6]) {
  if (l->closed || u->closed || l->io.connected || !u->io.connected) return -EINVAL;
  if ((key[0] == 4) != (l->io.family == AF_INET) || (key[0] != 4 && key[0] != 6) || key[1] == 0 || key[1] > 65535)
    return -EINVAL; /* an IPv6 listener sees IPv4 clients as v4-mapped (family 6) */
  flow_table *t = table_of(l);
  if (!t) return -ENOMEM;
  if (u->flow_listener) flow_unpin(u);
  sock *other = lookup(t, key);
  if (other) return -EBUSY;
  if (t->count >= t->nbuckets && grow(t) != 0) return -ENOMEM;
  memcpy(u->flow_key, key, sizeof u->flow_key);
  unsigned h = hash_key(key) & (t->nbuckets - 1);
  u->flow_next = t->buckets[h];
  t->buckets[h] = u;
  t->count++;
  u->flow_listener = l;
  u->flow_first = u->flow_last = -1;
  memset(u->flow_state, 0, sizeof u->flow_state); /* counts are per pin */
  u->flow_state[FLOW_PINNED] = 1;
  return 0;
}

void flow_unpin(sock *u) {
  sock *l = u->flow_listener;
  if (!l) return;
  flow_table *t = l->flows;
  sock **at = &t->buckets[hash_key(u->flow_key) & (t->nbuckets - 1)];
  while (*at && *at != u) at = &(*at)->flow_next;
  if (*at) { *at = u->flow_next; t->count--; }
  u->flow_next = NULL;
  u->flow_listener = NULL;
  u->flow_state[FLOW_PINNED] = 0;
}

void flow_unpin_all(sock *l) {
  flow_table *t = l->flows;
  if (!t) return;
  for (unsigned i = 0; i < t->nbuckets; i++) {
    for (sock *u = t->buckets[i], *next; u; u = next) {
      next = u->flow_next;
      u->flow_next = NULL;
      u->flow_listener = NULL;
      u->flow_state[FLOW_PINNED] = 0;
    }
    t->buckets[i] = NULL;
  }
  t->count = 0;
}

void flow_totals(const sock *l, double out[7]) {
  if (!l->flows) { memset(out, 0, 7 * sizeof *out); return; }
  memcpy(out, l->flows->totals, 7 * sizeof *out);
  out[T_FLOWS] = l->flows->count;
}

/* Unpins a session the addon cannot forward for cleanly; JS takes over (and may pin it again). */
static void give_up(sock *u, int err) {
  u->flow_state[FLOW_ERRNO] = err;
  flow_unpin(u);
}

/* Sends one session's datagrams of the batch (its chain), in chunks; what the session socket does
 * not take at once, and everything after it, goes back to JS (match[i] = NULL). Returns how many. */
static unsigned forward_chain(flow_table *t, sock *l, sock *u, double now) {
  const uint32_t *m = l->recv_meta;
  const uint8_t **src = l->io.recv_src;
  int copy = u->io.gso, failed = 0;
  unsigned handed = 0;
  double sent = 0, bytes = 0;
  int i = u->flow_first;
  u->flow_first = u->flow_last = -1;
  while (i >= 0) {
    const uint8_t *base = copy ? t->payload : l->io.recv_payload;
    size_t base_len = copy ? FLOW_COPY_BYTES : l->io.recv_payload_len, used = 0;
    unsigned k = 0;
    for (; i >= 0 && k < UDPN_MAX_SLOTS; i = t->next[i], k++) {
      uint32_t len = m[(size_t)i * W + UDPN_RECV_LEN];
      if (copy && used + len > FLOW_COPY_BYTES) break;
      uint32_t *sw = t->meta + (size_t)k * W;
      if (copy) { memcpy(t->payload + used, src[i], len); sw[UDPN_SEND_OFFSET] = (uint32_t)used; used += len; }
      else sw[UDPN_SEND_OFFSET] = (uint32_t)(src[i] - base);
      sw[UDPN_SEND_LEN] = len;
      sw[UDPN_SEND_ERRNO] = 0; /* a refusal writes its errno here (connected socket) */
      t->index[k] = i;
    }
    udpn_send_result r = {0, 0, 0};
    if (!failed) r = udpn_send(&u->io, base, base_len, t->meta, k);
    for (unsigned q = 0; q < k; q++) {
      const uint32_t *sw = t->meta + (size_t)q * W;
      if (failed || q >= r.consumed || sw[UDPN_SEND_ERRNO] != 0) { t->match[t->index[q]] = NULL; handed++; continue; }
      sent++;
      bytes += sw[UDPN_SEND_LEN];
    }
    /* Refused (an ICMP error of the backend): JS sends it again and hears of the next refusal. */
    if (!failed && (r.consumed < k || r.refused > 0)) { failed = 1; give_up(u, r.refused > 0 ? r.last_errno : EAGAIN); }
  }
  if (sent > 0) {
    u->flow_state[FLOW_IN_PACKETS] += sent; u->flow_state[FLOW_IN_BYTES] += bytes; u->flow_state[FLOW_IN_MS] = now;
    t->totals[T_IN_PACKETS] += sent; t->totals[T_IN_BYTES] += bytes;
  }
  return handed;
}

unsigned flow_forward(sock *l, unsigned n) {
  flow_table *t = l->flows;
  if (!t || t->count == 0 || n == 0) return n;
  uint32_t *m = l->recv_meta;
  const uint8_t **src = l->io.recv_src;
  unsigned touched = 0, left = 0;
  /* Which datagrams go where: a chain per pinned session, in batch order. */
  for (unsigned i = 0; i < n; i++) {
    const uint32_t *w = m + (size_t)i * W;
    uint32_t key[6] = {w[UDPN_RECV_FAMILY], w[UDPN_RECV_PORT], w[UDPN_ADDR], w[UDPN_ADDR + 1], w[UDPN_ADDR + 2], w[UDPN_ADDR + 3]};
    sock *u = lookup(t, key);
    t->match[i] = NULL;
    if (!u) continue;
    if (w[UDPN_RECV_FLAGS] & UDPN_FLAG_TRUNCATED) { give_up(u, EMSGSIZE); continue; } /* JS counts it */
    if (u->want_write || u->closed) { give_up(u, EAGAIN); continue; } /* behind its JS backlog */
    t->match[i] = u;
    t->next[i] = -1;
    if (u->flow_first < 0) { u->flow_first = (int)i; t->touched[touched++] = u; }
    else t->next[u->flow_last] = (int)i;
    u->flow_last = (int)i;
  }
  if (touched == 0) return n;
  double now = flow_now_ms(), handed = 0;
  for (unsigned j = 0; j < touched; j++) handed += forward_chain(t, l, t->touched[j], now);
  t->totals[T_HANDED_BACK] += handed;
  warn_gso_fallback(l->env);
  /* What is left for JS moves to the front, in order. */
  for (unsigned i = 0; i < n; i++) {
    if (t->match[i]) continue;
    if (left != i) { memcpy(m + (size_t)left * W, m + (size_t)i * W, W * sizeof *m); src[left] = src[i]; }
    left++;
  }
  return left;
}

unsigned flow_reply(sock *u, unsigned n) {
  sock *l = u->flow_listener;
  if (!l || n == 0) return n;
  if (l->closed || l->want_write) { give_up(u, EAGAIN); return n; } /* behind the listener's JS backlog */
  flow_table *t = l->flows;
  uint32_t *m = u->recv_meta;
  const uint8_t **src = u->io.recv_src;
  for (unsigned i = 0; i < n; i++)
    if (m[(size_t)i * W + UDPN_RECV_FLAGS] & UDPN_FLAG_TRUNCATED) { give_up(u, EMSGSIZE); return n; }
  uint8_t *base = u->io.recv_payload;
  for (unsigned i = 0; i < n; i++) {
    uint32_t *sw = t->meta + (size_t)i * W;
    sw[UDPN_SEND_OFFSET] = (uint32_t)(src[i] - base);
    sw[UDPN_SEND_LEN] = m[(size_t)i * W + UDPN_RECV_LEN];
    sw[UDPN_SEND_PORT] = u->flow_key[1];
    sw[UDPN_SEND_FAMILY] = u->flow_key[0];
    memcpy(&sw[UDPN_ADDR], &u->flow_key[2], 4 * sizeof *sw);
  }
  udpn_send_result r = udpn_send(&l->io, base, u->io.recv_payload_len, t->meta, n); /* a refused datagram's family word becomes 0 */
  warn_gso_fallback(l->env);
  double sent = 0, bytes = 0;
  for (unsigned q = 0; q < r.consumed; q++) {
    const uint32_t *sw = t->meta + (size_t)q * W;
    if (sw[UDPN_SEND_FAMILY] == 0) continue;
    sent++;
    bytes += sw[UDPN_SEND_LEN];
  }
  if (sent > 0) {
    u->flow_state[FLOW_OUT_PACKETS] += sent; u->flow_state[FLOW_OUT_BYTES] += bytes; u->flow_state[FLOW_OUT_MS] = flow_now_ms();
    t->totals[T_OUT_PACKETS] += sent; t->totals[T_OUT_BYTES] += bytes;
  }
  /* Refused toward the client: counted, as the JS path counts a refused send; not sent again. */
  t->totals[T_OUT_REFUSED] += r.refused;
  if (r.consumed == n && r.refused == 0) return 0;
  give_up(u, r.refused > 0 ? r.last_errno : EAGAIN);
  /* The rest (the listener would block) goes to JS, which keeps it in the listener's backlog. */
  unsigned left = n - r.consumed;
  t->totals[T_HANDED_BACK] += left;
  if (r.consumed > 0) {
    memmove(m, m + (size_t)r.consumed * W, (size_t)left * W * sizeof *m);
    memmove(src, src + r.consumed, left * sizeof *src);
  }
  return left;
}
