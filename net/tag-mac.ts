/** The tag codec's HMAC from the native addon (TagMac: pad states precomputed per key, one call a tag). */
import type { TagMacFactory } from '../gateway/tag.js';
import { loadNativeAddon } from './native-addon.js';

export type TagMacPreference = 'auto' | 'native' | 'node';

/** 'auto': the addon's where it loads, else node:crypto (undefined); 'native' throws when unavailable. */
export function selectTagMac(preference: TagMacPreference = 'auto'): TagMacFactory | undefined {
  if (preference === 'node') return undefined;
  const load = loadNativeAddon();
  const TagMac = load.addon?.TagMac;
  if (TagMac) return (key) => new TagMac(key);
  if (preference === 'native') throw new Error(`native tag MAC unavailable: ${'reason' in load ? load.reason : 'addon without TagMac'}`);
  return undefined;
}
