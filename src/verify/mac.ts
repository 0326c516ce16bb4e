/**
 * The MAC seam. Signing code takes a MacFn so the same code serves the server (node:crypto, synchronous)
 * and the sdk (Web Crypto, asynchronous). This module only declares the shape; implementations live in
 * verify/node-mac.ts (server) and sdk/web-mac.ts (edge runtimes).
 */
export type MacAlgorithm = 'sha1' | 'sha256' | 'sha512';

export type MacFn = (algorithm: MacAlgorithm, key: Uint8Array, message: Uint8Array) => Uint8Array;
export type AsyncMacFn = (algorithm: MacAlgorithm, key: Uint8Array, message: Uint8Array) => Promise<Uint8Array>;
