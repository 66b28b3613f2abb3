import { type LookupAddress, lookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent } from 'undici';
import { isAddressAllowed } from './address-policy.js';
import { addressRefused } from './host-policy.js';

export interface SafeAgentOptions {
  readonly allowLoopback: boolean;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  /** Longest silence while the body streams. */
  readonly bodyTimeoutMs: number;
}

/**
 * An undici Agent whose connections resolve host names through a lookup that refuses private,
 * link-local and (unless allowed) loopback addresses. The address checked is the address the
 * socket connects to, so a DNS answer cannot change between the check and the connection.
 */
export function createSafeAgent(options: SafeAgentOptions): Agent {
  const checkedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    lookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, []);
      const refused = addresses.filter((entry) => !isAddressAllowed(entry.address, options.allowLoopback));
      if (refused.length > 0 || addresses.length === 0) {
        return callback(
          addressRefused(
            hostname,
            addresses.map((entry) => entry.address),
          ),
          [],
        );
      }
      const first = addresses[0] as LookupAddress;
      if (lookupOptions.all === true) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
  return new Agent({
    connect: { lookup: checkedLookup, timeout: options.connectTimeoutMs },
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
  });
}
