import { describe, expect, it } from 'vitest';
import { checkUrl, classifyAddress, isAddressAllowed } from '../../src/media/index.js';

describe('classifyAddress', () => {
  it.each([
    ['93.184.216.34', 'public'],
    ['2606:4700::6810:85e5', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'private'],
    ['100.64.0.1', 'private'],
    ['0.0.0.0', 'private'],
    ['224.0.0.1', 'private'],
    ['255.255.255.255', 'private'],
    ['::', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'private'],
    ['::ffff:93.184.216.34', 'public'],
    ['fd00::1', 'private'],
    ['fe80::1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'private'],
    ['2002:a9fe:a9fe::1', 'private'],
    ['not-an-ip', 'private'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('allows loopback only when asked', () => {
    expect(isAddressAllowed('127.0.0.1', false)).toBe(false);
    expect(isAddressAllowed('127.0.0.1', true)).toBe(true);
    expect(isAddressAllowed('10.0.0.1', true)).toBe(false);
  });
});

describe('checkUrl', () => {
  const production = {
    allowedHosts: { discord: ['cdn.discordapp.com', 'media.discordapp.net'], slack: ['files.slack.com'] },
    allowLoopback: false,
  };
  const code = (url: string, platform: 'discord' | 'slack' = 'discord') => {
    try {
      checkUrl(new URL(url), platform, production);
      return 'ok';
    } catch (error) {
      return (error as { code: string }).code;
    }
  };

  it('accepts the platform’s own https hosts only', () => {
    expect(code('https://cdn.discordapp.com/attachments/1/2/cat.png?ex=1')).toBe('ok');
    expect(code('https://media.discordapp.net/attachments/1/2/cat.png')).toBe('ok');
    expect(code('https://files.slack.com/files-pri/T1-F1/cat.png', 'slack')).toBe('ok');
    expect(code('https://files.slack.com/files-pri/T1-F1/cat.png', 'discord')).toBe(
      'ATTACHMENT_HOST_NOT_ALLOWED',
    );
    expect(code('http://cdn.discordapp.com/a.png')).toBe('ATTACHMENT_HOST_NOT_ALLOWED');
    expect(code('https://cdn.discordapp.com.evil.example/a.png')).toBe('ATTACHMENT_HOST_NOT_ALLOWED');
    expect(code('https://user:pass@cdn.discordapp.com/a.png')).toBe('ATTACHMENT_HOST_NOT_ALLOWED');
    expect(code('https://127.0.0.1/a.png')).toBe('ATTACHMENT_HOST_NOT_ALLOWED');
  });
});
