/**
 * A WireGuard listener in the gateway, against Debian's wireguard-go in a network namespace the test
 * creates (veth 10.213.42.0/30, tunnel 10.79.0.0/24): a device sends UDP inside the tunnel, the event
 * carries Remote.PeerKey and Inner, the reply by tag goes back through the tunnel, an out-of-band
 * packet by PeerKey (admin API) reaches the device, and a send to a peer without a session is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { recorded } from '../../support/memory-destination.js';
import { resolveConfig } from '../../../app/config/load.js';
import { createGateway, type Gateway } from '../../../app/gateway.js';
import { buildAdminApi } from '../../../app/admin.js';
import { toEventMessage } from '../../../gateway/wire/event.js';
import { canMakeNamespaces, jsonLines, Namespace, run, waitFor } from './support/netns.js';

const UDP_PEER = fileURLToPath(new URL('./support/udp-peer.mjs', import.meta.url));
const GW_INNER = '10.79.0.1';
const DEVICE_INNER = '10.79.0.2';
const noNamespaces = canMakeNamespaces();
if (noNamespaces) console.warn(`WireGuard listener test skipped: cannot create a network namespace here (${noNamespaces})`);

describe.skipIf(noNamespaces !== undefined)('a WireGuard listener in the gateway, against wireguard-go', () => {
  const ns = new Namespace(42);
  const gatewayKey = run('wg', ['genkey']);
  const deviceKey = run('wg', ['genkey']);
  const devicePublic = run('wg', ['pubkey'], deviceKey);
  const absentPublic = run('wg', ['pubkey'], run('wg', ['genkey']));
  let gw: Gateway;

  beforeAll(async () => {
    ns.create();
    gw = await createGateway(resolveConfig({
      secret: 'wg-test-secret-0123456789abcdef', admin: { token: 'wg-admin-token' },
      listeners: [{
        name: 'devices', host: ns.hostAddress, port: 0,
        protocol: {
          type: 'wireguard', privateKey: gatewayKey, address: GW_INNER, port: 7000,
          peers: [{ publicKey: devicePublic, allowedIPs: [`${DEVICE_INNER}/32`], name: 'device-1' }, { publicKey: absentPublic, allowedIPs: ['10.79.0.9/32'] }],
        },
        destinations: [{ type: 'memory', name: 'echo', mode: 'echo', prefix: 'wg-' }],
      }],
    }, '/tmp'), { logger: pino({ level: 'silent' }) });
    await ns.startWireguardGo('d', {
      privateKey: deviceKey, listenPort: 51830, innerCidr: `${DEVICE_INNER}/24`, peerKey: run('wg', ['pubkey'], gatewayKey),
      peerEndpoint: `${ns.hostAddress}:${gw.address('devices').port}`, peerAllowed: '10.79.0.0/24',
    });
  });

  afterAll(async () => {
    await gw?.close();
    await ns.close();
  });

  it('delivers the inner datagram with Remote.PeerKey and Inner, and the reply by tag comes back through the tunnel', async () => {
    const child = ns.spawn('node', [UDP_PEER, 'send', GW_INNER, '7000', 'ping', '20000']);
    const lines = jsonLines(child);
    const { localPort } = await lines.next(5_000) as { localPort: number };
    expect(await lines.next(25_000)).toEqual({ reply: 'echo:ping', from: `${GW_INNER}:7000` });
    const p = recorded.get('wg-echo')!.flat().find((x) => x.data.toString() === 'ping')!;
    const m = toEventMessage(p);
    expect(m.Remote).toEqual({ IpAddress: ns.nsAddress, Port: 51830, PeerKey: devicePublic });
    expect(m.Inner).toEqual({ SourceAddress: DEVICE_INNER, SourcePort: localPort, DestinationAddress: GW_INNER, DestinationPort: 7000 });
  });

  it('an out-of-band packet by PeerKey reaches the device inside the tunnel; a peer without a session is refused and counted', async () => {
    const listener = ns.spawn('node', [UDP_PEER, 'listen', DEVICE_INNER, '9100', '15000']);
    const lines = jsonLines(listener);
    expect(await lines.next(5_000)).toEqual({ ready: true });
    const admin = buildAdminApi(gw, { token: 'wg-admin-token' });
    const send = (Remote: Record<string, unknown>) => admin.inject({
      method: 'POST', url: '/v1/send?listener=devices', headers: { authorization: 'Bearer wg-admin-token' },
      payload: { Messages: [{ Data: Buffer.from('push').toString('base64'), Remote }] },
    });
    const ok = await send({ Address: DEVICE_INNER, Port: 9100, PeerKey: devicePublic });
    expect(ok.json()).toEqual({ messages: [{ status: 'sent' }], replies: [], rejected: [] });
    expect(await lines.next(15_000)).toEqual({ data: 'push', from: `${GW_INNER}:7000` });
    const refused = await send({ Address: '10.79.0.9', Port: 9100, PeerKey: absentPublic });
    expect(refused.statusCode).toBe(207);
    expect(refused.json().messages).toEqual([{ status: 'refused', reason: 'no-session' }]);
    const metrics = await gw.metrics.registry.metrics();
    expect(metrics).toMatch(/udpgw_egress_refused_total\{path="out_of_band",reason="no-session"\} 1/);
    expect(metrics).toMatch(/udpgw_wireguard_handshakes_completed_total\{listener="devices"\} 1/);
    expect(metrics).toMatch(/udpgw_wireguard_peers_live\{listener="devices"\} 1\n/); // the device, not the absent peer
    await admin.close();
  });

  it('a PeerKey on a plain UDP listener is refused, and an unknown protocol is a config error naming the path', () => {
    expect(() => resolveConfig({ listeners: [{ name: 'x', port: 0, protocol: { type: 'ipsec' }, destinations: [{ type: 'memory' }] }] }, '/tmp'))
      .toThrow(/\/listeners\/0\/protocol\/type: unknown listener protocol "ipsec"/);
    expect(() => resolveConfig({ listeners: [{ name: 'x', port: 0, protocol: { type: 'wireguard', address: '10.0.0.1', peers: [{ publicKey: 'nope', allowedIPs: ['10.0.0.2/32'] }] }, destinations: [{ type: 'memory' }] }] }, '/tmp'))
      .toThrow(/\/listeners\/0\/protocol\/peers\/0\/publicKey/);
  });
});
