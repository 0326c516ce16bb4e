/**
 * A small in-memory LRU in front of result storage, for the results asked for most: a hit costs no file read, no
 * S3 round trip and no hash of the bytes (the ETag is kept with them). Bounded in bytes, and every entry lives at
 * most `ttlMs`, so an instance of a fleet never serves a result much older than what the shared storage holds.
 */
export interface HotEntry {
  readonly data: Buffer;
  readonly contentType: string;
  readonly lastModifiedMs: number;
  readonly etag: string;
}

interface Slot extends HotEntry {
  readonly expiresAt: number;
}

export interface HotCache {
  get(key: string, now: number): HotEntry | undefined;
  set(key: string, entry: HotEntry, now: number): void;
  readonly bytes: number;
}

export function createHotCache(maxBytes: number, ttlMs: number): HotCache {
  const slots = new Map<string, Slot>();
  let bytes = 0;
  const drop = (key: string, slot: Slot) => {
    slots.delete(key);
    bytes -= slot.data.length;
  };
  return {
    get bytes() {
      return bytes;
    },
    get(key, now) {
      const slot = slots.get(key);
      if (!slot) return undefined;
      if (slot.expiresAt <= now) {
        drop(key, slot);
        return undefined;
      }
      slots.delete(key); // most recently used goes last
      slots.set(key, slot);
      return slot;
    },
    set(key, entry, now) {
      if (maxBytes <= 0 || entry.data.length > maxBytes / 8) return; // one large result must not flush the rest
      const old = slots.get(key);
      if (old) drop(key, old);
      slots.set(key, { ...entry, expiresAt: now + ttlMs });
      bytes += entry.data.length;
      for (const [k, s] of slots) {
        if (bytes <= maxBytes) break;
        drop(k, s);
      }
    },
  };
}
