/**
 * A `lookup` for Node's http/https requests that answers only with addresses already checked against the
 * address rules (connectors/http/addresses.ts): DNS is not asked again between the check and the connect,
 * so a name cannot be rebound to a private address in between. Shared by the safe downloader and the
 * webhook sender.
 */
import type http from 'node:http';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export function pinnedLookup(hostname: string, addresses: readonly ResolvedAddress[]): NonNullable<http.RequestOptions['lookup']> {
  return (_hostname, lookupOptions, callback) => {
    const family = lookupOptions.family === 6 || lookupOptions.family === 'IPv6' ? 6 : lookupOptions.family === 4 || lookupOptions.family === 'IPv4' ? 4 : 0;
    const usable = addresses.filter((a) => family === 0 || a.family === family);
    const first = usable[0];
    if (!first) return callback(Object.assign(new Error(`no checked IPv${family} address for ${hostname}`), { code: 'ENOTFOUND' }), '');
    if (lookupOptions.all) return callback(null, usable);
    callback(null, first.address, first.family);
  };
}
