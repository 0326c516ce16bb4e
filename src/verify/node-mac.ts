/** HMAC through node:crypto, for the server and the CLI. */
import { createHmac } from 'node:crypto';
import type { MacFn } from './mac.js';

export const nodeMac: MacFn = (algorithm, key, message) => {
  const h = createHmac(algorithm, key);
  h.update(message);
  return new Uint8Array(h.digest());
};
