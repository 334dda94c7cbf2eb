import { describe, expect, it } from 'vitest';
import { dgramTransport } from '../../net/dgram.js';
import { loadNativeAddon } from '../../net/native-addon.js';
import { nativeTransport } from '../../net/native.js';
import { selectTransport, transportPreferenceFromEnv } from '../../net/select.js';

function logger() {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  return { lines, info: (obj: object, msg: string) => { lines.push({ obj: obj as Record<string, unknown>, msg }); } };
}

describe('selectTransport', () => {
  const hasAddon = loadNativeAddon().addon !== undefined;

  it('dgram when configured, with one line saying so', () => {
    const log = logger();
    expect(selectTransport('dgram', log)).toBe(dgramTransport);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]?.obj).toMatchObject({ transport: 'dgram', preference: 'dgram' });
  });

  it('auto: native when the addon loads, else dgram with the reason', () => {
    const log = logger();
    const chosen = selectTransport('auto', log);
    expect(chosen).toBe(hasAddon ? nativeTransport : dgramTransport);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]?.obj.transport).toBe(chosen.kind);
    if (!hasAddon) expect(String(log.lines[0]?.obj.reason)).not.toBe('');
  });

  it('native: the addon, or a clear error when it is missing', () => {
    const log = logger();
    if (hasAddon) expect(selectTransport('native', log)).toBe(nativeTransport);
    else expect(() => selectTransport('native', log)).toThrow(/unavailable/);
  });

  it('on Windows (any platform but Linux) the addon is never tried: node:dgram, with one info line saying why', async () => {
    const log = logger();
    const before = process.env.UDPGW_NATIVE_ADDON;
    process.env.UDPGW_NATIVE_ADDON = '/nonexistent/udp_native.node'; // would be tried first on Linux
    try {
      expect(loadNativeAddon('win32')).toEqual({ reason: 'platform win32 (the addon is Linux only)' });
      const chosen = selectTransport('auto', log, 'win32');
      expect(chosen).toBe(dgramTransport);
      expect(log.lines).toEqual([{ obj: { transport: 'dgram', preference: 'auto', reason: 'platform win32 (the addon is Linux only)' }, msg: 'udp transport: dgram (native unavailable: platform win32 (the addon is Linux only))' }]);
      expect(() => selectTransport('native', logger(), 'win32')).toThrow(/"native" was configured but is unavailable: platform win32/);
    } finally {
      if (before === undefined) delete process.env.UDPGW_NATIVE_ADDON; else process.env.UDPGW_NATIVE_ADDON = before;
    }
    // What it chose works: a datagram through it, on a real socket.
    const got: string[] = [];
    const t = await dgramTransport.bind({ host: '127.0.0.1', port: 0, maxDatagramBytes: 1500 }, (batch) => { for (const d of batch) got.push(d.data.toString()); }, () => {});
    const { createSocket } = await import('node:dgram');
    const c = createSocket('udp4');
    await new Promise<void>((r) => c.send('on-dgram', t.local.port, '127.0.0.1', () => r()));
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    c.close();
    await t.close();
    expect(got).toEqual(['on-dgram']);
  });

  it('UDPGW_TRANSPORT overrides only with a known value', () => {
    expect(transportPreferenceFromEnv({ UDPGW_TRANSPORT: 'dgram' })).toBe('dgram');
    expect(transportPreferenceFromEnv({ UDPGW_TRANSPORT: 'native' })).toBe('native');
    expect(transportPreferenceFromEnv({ UDPGW_TRANSPORT: 'fast' })).toBeUndefined();
    expect(transportPreferenceFromEnv({})).toBeUndefined();
  });
});
