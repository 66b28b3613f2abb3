import { isIP } from 'node:net';
import { EmuBotError } from '../core/index.js';
import { isAddressAllowed } from './address-policy.js';

/** The platforms whose files emu-bot fetches. */
export type FilePlatform = 'discord' | 'slack';

export interface HostPolicyOptions {
  /** Exact host names per platform, for example cdn.discordapp.com and media.discordapp.net. */
  readonly allowedHosts: Readonly<Record<FilePlatform, readonly string[]>>;
  /** Loopback addresses and plain http, for the platform simulations in tests; never in production. */
  readonly allowLoopback: boolean;
}

const hostNotAllowedMessage = 'I can only read files uploaded to this chat.';

/**
 * Checks one hop's URL before it is requested: https (plain http too when loopback is allowed, for tests),
 * a host on the platform's list, no credentials in the URL, and an IP-literal host checked like
 * a resolved one (the connection's DNS check never sees those).
 */
export function checkUrl(url: URL, platform: FilePlatform, options: HostPolicyOptions): void {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const refuse = (why: string) =>
    new EmuBotError('ATTACHMENT_HOST_NOT_ALLOWED', `refused to fetch ${url.origin}${url.pathname}: ${why}`, {
      userMessage: hostNotAllowedMessage,
    });
  if (!options.allowedHosts[platform].includes(host)) {
    throw refuse(`${host} is not in attachments.allowedHosts.${platform}`);
  }
  if (url.username !== '' || url.password !== '') throw refuse('the URL carries credentials');
  const literal = isIP(host) !== 0;
  if (literal && !isAddressAllowed(host, options.allowLoopback))
    throw refuse(`${host} is not a public address`);
  const testHttp = url.protocol === 'http:' && options.allowLoopback;
  if (url.protocol !== 'https:' && !testHttp) throw refuse(`${url.protocol} is not https:`);
}

/** The error for a host name whose DNS answer holds an address that is not public. */
export function addressRefused(hostname: string, addresses: readonly string[]): EmuBotError {
  return new EmuBotError(
    'ATTACHMENT_HOST_NOT_ALLOWED',
    `refused to connect to ${hostname}: it resolves to ${addresses.join(', ')}, not only public addresses`,
    { userMessage: hostNotAllowedMessage },
  );
}
