/**
 * max_bytes: imagor's re-encode loop (processor/vipsprocessor/process.go Process). The first encode uses the
 * planned quality; while the output is over the budget and the quality above 10, the next quality is the
 * previous one (80 after an encoder default) times 0.25 when more than 3x over, 0.5 when more than 1.5x over,
 * else 0.75, with Go's integer arithmetic. When the budget cannot be met the last, smallest attempt is kept,
 * as imagor does. Knows nothing of sharp: the caller passes the encoder.
 */

/** The quality after an attempt of `bytes` at `quality` against a budget of `maxBytes`. */
export function nextQuality(quality: number, bytes: number, maxBytes: number): number {
  const over = bytes / maxBytes;
  const percent = over > 3 ? 25 : over > 1.5 ? 50 : 75;
  return Math.trunc((quality * percent) / 100);
}

export interface ByteBudget {
  /** The quality of the first attempt. */
  readonly quality: number;
  /** The budget; undefined encodes once. */
  readonly maxBytes: number | undefined;
  /** The quality the first retry scales down from (the URL's quality, else 80). */
  readonly retryFrom: number;
}

/**
 * Encodes at the budget's quality, then again at lower qualities until the output fits. `beforeRetry` runs
 * before each new attempt (the executor checks its deadline there).
 */
export async function encodeWithinBytes(
  budget: ByteBudget,
  encodeAt: (quality: number) => Promise<Buffer>,
  beforeRetry?: () => void,
): Promise<Buffer> {
  let quality = budget.quality;
  let first = true;
  for (;;) {
    const data = await encodeAt(quality);
    if (budget.maxBytes === undefined || data.length <= budget.maxBytes || quality <= 10) return data;
    quality = nextQuality(first ? budget.retryFrom : quality, data.length, budget.maxBytes);
    first = false;
    beforeRetry?.();
  }
}
