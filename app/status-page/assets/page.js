// The status page: polls /v1/stats every second, keeps the last minutes in memory (view.js) and
// draws them. Every string from the gateway (listener and destination names come from the config)
// reaches the DOM through textContent or setAttribute, never as markup.
import { History, recentLatency, sparkPoints, formatBytes, formatCount, formatRate, formatSeconds } from './view.js';

const POLL_MS = 1000;
const WINDOW_MS = 5 * 60_000;
const SLOTS = WINDOW_MS / POLL_MS;
const LATENCY_WINDOW_MS = 60_000;
const SVG = 'http://www.w3.org/2000/svg';
const history = new History(WINDOW_MS, SLOTS + 1);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function sparkline() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 120 28');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('aria-hidden', 'true');
  const line = document.createElementNS(SVG, 'polyline');
  svg.append(line);
  // The time axis starts at one minute and widens to the whole window as the history grows.
  return { svg, draw: (values) => line.setAttribute('points', sparkPoints(values, 120, 28, Math.min(SLOTS, Math.max(60, values.length)))) };
}

/** A card (or a table row) whose fields are found by name and updated in place. */
class Fields {
  constructor(root) { this.root = root; this.fields = new Map(); this.sparks = new Map(); }
  field(name, parent, className = 'v') {
    const v = el('span', className);
    v.dataset.field = name;
    parent.append(v);
    this.fields.set(name, v);
    return v;
  }
  spark(name, parent) { const s = sparkline(); parent.append(s.svg); this.sparks.set(name, s); }
  set(name, text) { const f = this.fields.get(name); if (f && f.textContent !== text) f.textContent = text; }
  draw(name, values) { this.sparks.get(name)?.draw(values); }
}

/** A headline number with its sparkline. */
function rateBlock(card, name, label, parent) {
  const box = el('div', 'rate');
  box.append(el('span', 'label', label));
  card.field(`${name}Rate`, box, 'big');
  box.append(el('span', 'unit', '/s'));
  card.spark(name, box);
  parent.append(box);
}

/** Small label: value pairs under the headline numbers. */
function facts(card, pairs, parent) {
  const dl = el('dl', 'facts');
  for (const [name, label] of pairs) {
    const d = el('div');
    d.append(el('dt', '', label));
    const dd = el('dd');
    card.field(name, dd);
    d.append(dd);
    dl.append(d);
  }
  parent.append(dl);
}

/** Keeps one child of `container` per key, in the order given; removes the rest. */
function sync(container, keyAttr, items, key, create) {
  const existing = new Map([...container.children].map((c) => [c.dataset[keyAttr], c]));
  const cards = items.map((item) => {
    const k = key(item);
    let node = existing.get(k);
    if (!node) { node = create(item); node.dataset[keyAttr] = k; }
    existing.delete(k);
    return node;
  });
  for (const stale of existing.values()) stale.remove();
  cards.forEach((c, i) => { if (container.children[i] !== c) container.insertBefore(c, container.children[i] ?? null); });
  return cards.map((c) => c.fields);
}

const hostPort = (l) => (l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`);

/** A card's frame: its title, one field beside it, and the in and out rates with their sparklines. */
function cardFrame(title, subField, inLabel, outLabel) {
  const root = el('article', 'card');
  const card = new Fields(root);
  const head = el('header');
  head.append(el('h3', '', title));
  card.field(subField, head, 'sub');
  root.append(head);
  const rates = el('div', 'rates');
  rateBlock(card, 'in', inLabel, rates);
  rateBlock(card, 'out', outLabel, rates);
  root.append(rates);
  return { root, card };
}

function listenerCard(l) {
  const { root, card } = cardFrame(l.name, 'where', 'in', 'out');
  facts(card, [['packetsIn', 'received'], ['packetsOut', 'sent'], ['bytesIn', 'bytes in'], ['bytesOut', 'bytes out'], ['recentClients', 'recent clients'], ['drops', 'dropped']], root);
  root.fields = card;
  return root;
}

function destinationCard(d) {
  const { root, card } = cardFrame(d.id, 'kind', 'in · delivered', 'out · to clients');
  const queue = el('div', 'queue');
  queue.append(el('span', 'label', 'queue'));
  const meter = el('meter');
  meter.min = 0;
  queue.append(meter);
  card.field('queued', queue);
  card.meter = meter;
  root.append(queue);
  facts(card, [['inFlight', 'in flight'], ['p50', 'p50 (1 min)'], ['p99', 'p99 (1 min)'], ['delivered', 'delivered'], ['failed', 'failed'],
    ['retried', 'retried'], ['deadLettered', 'dead-lettered'], ['drops', 'dropped'], ['sessions', 'udp sessions']], root);
  root.fields = card;
  return root;
}

function tableRow(cells) {
  const tr = el('tr');
  const card = new Fields(tr);
  for (const [name, className] of cells) {
    const td = el('td', className);
    if (name === 'spark') card.spark('rate', td); else card.field(name, td, '');
    tr.append(td);
  }
  tr.fields = card;
  return tr;
}

const listenerIn = (name) => (s) => s.listeners.find((l) => l.name === name)?.packetsIn;
const listenerOut = (name) => (s) => s.listeners.find((l) => l.name === name)?.packetsOut;
const destIn = (id) => (s) => s.destinations.find((d) => d.id === id)?.delivered;
const destOut = (id) => (s) => s.destinations.find((d) => d.id === id)?.toClients;
const total = (list, get) => list.reduce((n, x) => n + get(x), 0);

function renderTotals(s) {
  const tiles = [
    ['in', (x) => total(x.listeners, (l) => l.packetsIn)],
    ['out', (x) => total(x.listeners, (l) => l.packetsOut)],
    ['delivered', (x) => total(x.destinations, (d) => d.delivered)],
    ['drops', (x) => total(x.drops, (d) => d.count)],
  ];
  for (const [name, get] of tiles) {
    const tile = document.querySelector(`#totals [data-tile="${name}"]`);
    tile.querySelector('.big').textContent = formatRate(history.rate(get));
    tile.querySelector('.total').textContent = formatCount(get(s));
    if (!tile.spark) { tile.spark = sparkline(); tile.append(tile.spark.svg); }
    tile.spark.draw(history.rates(get));
  }
}

function renderListeners(s) {
  const cards = sync(document.getElementById('listeners'), 'listener', s.listeners, (l) => l.name, listenerCard);
  s.listeners.forEach((l, i) => {
    const c = cards[i];
    c.set('where', `${hostPort(l)} · ${l.transport} · ${l.protocol}`);
    for (const [name, get] of [['in', listenerIn(l.name)], ['out', listenerOut(l.name)]]) {
      c.set(`${name}Rate`, formatRate(history.rate(get)));
      c.draw(name, history.rates(get));
    }
    for (const k of ['packetsIn', 'packetsOut', 'recentClients', 'drops']) c.set(k, formatCount(l[k]));
    c.set('bytesIn', formatBytes(l.bytesIn));
    c.set('bytesOut', formatBytes(l.bytesOut));
  });
}

function renderDestinations(s) {
  const cards = sync(document.getElementById('destinations'), 'destination', s.destinations, (d) => d.id, destinationCard);
  s.destinations.forEach((d, i) => {
    const c = cards[i];
    c.set('kind', d.kind);
    for (const [name, get] of [['in', destIn(d.id)], ['out', destOut(d.id)]]) {
      c.set(`${name}Rate`, formatRate(history.rate(get)));
      c.draw(name, history.rates(get));
    }
    c.set('queued', `${formatCount(d.queued)} / ${formatCount(d.queueCapacity)}`);
    c.meter.max = Math.max(d.queueCapacity, 1);
    c.meter.value = d.queued;
    for (const k of ['inFlight', 'delivered', 'failed', 'retried', 'deadLettered', 'drops']) c.set(k, formatCount(d[k]));
    c.set('sessions', d.sessions === null ? '—' : formatCount(d.sessions));
    const lat = recentLatency(history, d.id, LATENCY_WINDOW_MS);
    c.set('p50', formatSeconds(lat?.p50));
    c.set('p99', formatSeconds(lat?.p99));
  });
}

/** A table of counted events (drops, refusals): one row per label pair, its total, rate and sparkline. */
function renderCounts(id, rows, keyOf, cells, pick) {
  const body = document.querySelector(`#${id} tbody`);
  document.getElementById(id).hidden = rows.length === 0;
  document.getElementById(`${id}-none`).hidden = rows.length > 0;
  const cards = sync(body, 'row', rows, keyOf, () => tableRow(cells));
  rows.forEach((r, i) => {
    const get = (s) => pick(s).find((x) => keyOf(x) === keyOf(r))?.count ?? 0;
    for (const [name] of cells) if (name !== 'spark' && name !== 'count' && name !== 'rate') cards[i].set(name, String(r[name]));
    cards[i].set('count', formatCount(r.count));
    cards[i].set('rate', formatRate(history.rate(get)));
    cards[i].draw('rate', history.rates(get));
  });
}

const summary = (counts) => Object.entries(counts).map(([k, n]) => `${k} ${formatCount(n)}`).join(', ') || '—';

function renderSources(s) {
  const rows = s.packetSources.map((p) => ({ name: p.name, messages: summary(p.messages), packets: summary(p.packets) }));
  const body = document.querySelector('#sources tbody');
  document.getElementById('sources').hidden = rows.length === 0;
  document.getElementById('sources-none').hidden = rows.length > 0;
  const cards = sync(body, 'row', rows, (r) => r.name, () => tableRow([['name', ''], ['messages', ''], ['packets', '']]));
  rows.forEach((r, i) => { for (const k of ['name', 'messages', 'packets']) cards[i].set(k, r[k]); });
}

function render(s) {
  const state = document.getElementById('state');
  state.textContent = s.state;
  state.dataset.state = s.state;
  document.getElementById('updated').textContent = `pid ${s.pid} · updated ${new Date(s.at).toLocaleTimeString()}`;
  renderTotals(s);
  renderListeners(s);
  renderDestinations(s);
  renderCounts('drops', s.drops, (d) => `${d.where}\u0000${d.reason}`, [['where', ''], ['reason', ''], ['count', 'n'], ['rate', 'n'], ['spark', 'sparkcell']], (x) => x.drops);
  renderCounts('refused', s.egressRefused, (d) => `${d.path}\u0000${d.reason}`, [['path', ''], ['reason', ''], ['count', 'n'], ['rate', 'n'], ['spark', 'sparkcell']], (x) => x.egressRefused);
  renderSources(s);
  document.body.dataset.samples = String(history.samples.length);
}

async function poll() {
  const link = document.getElementById('link');
  try {
    const r = await fetch('v1/stats', { cache: 'no-store', signal: AbortSignal.timeout(5000) });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const stats = await r.json();
    history.push(stats);
    render(stats);
    link.textContent = 'live';
    link.dataset.state = 'live';
  } catch (err) {
    link.textContent = `reconnecting (${err instanceof Error ? err.message : 'error'})`;
    link.dataset.state = 'down';
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
