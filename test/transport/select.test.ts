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

  it('UDPGW_TRANSPORT overrides only with a known value', () => {
    expect(transportPreferenceFromEnv({ UDPGW_TRANSPORT: 'dgram' })).toBe('dgram');
    expect(transportPreferenceFromEnv({ UDPGW_TRANSPORT: 'native' })).toBe('native');
    expect(transportPreferenceFromEnv({ UDPGW_TRANSPORT: 'fast' })).toBeUndefined();
    expect(transportPreferenceFromEnv({})).toBeUndefined();
  });
});
