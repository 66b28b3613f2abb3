import { describe, expect, it } from 'vitest';
import { parseEmu, parseImagine } from '../../../src/bots/slack/command-text.js';
import { escapeMrkdwn, mentionsBot, plainText } from '../../../src/bots/slack/mrkdwn.js';
import { statusText } from '../../../src/bots/slack/status-text.js';

describe('Slack command text', () => {
  it('reads /imagine options anywhere in the prompt, in each spelling', () => {
    expect(parseImagine('a red circle count=2 --seed 7 steps:30 guidance=7.5', 200)).toEqual({
      prompt: 'a red circle',
      count: 2,
      seed: 7,
      steps: 30,
      guidance: 7.5,
    });
    expect(parseImagine('just a cat', 200)).toEqual({
      prompt: 'just a cat',
      count: 1,
      seed: null,
      steps: null,
      guidance: null,
    });
  });

  it('refuses out-of-range options and an empty prompt with the usage', () => {
    expect(() => parseImagine('cat count=5', 200)).toThrow(/count must be a whole number from 1 to 4/);
    expect(() => parseImagine('cat steps=500', 200)).toThrow(/steps/);
    expect(() => parseImagine('count=2', 200)).toThrow(/prompt is empty/);
  });

  it('reads /emu subcommands', () => {
    expect(parseEmu('ask what is Emu?')).toEqual({ name: 'ask', question: 'what is Emu?' });
    expect(parseEmu('queue')).toEqual({ name: 'queue' });
    expect(parseEmu('describe')).toEqual({ name: 'describe' });
    expect(parseEmu('')).toEqual({ name: 'help' });
  });
});

describe('Slack mrkdwn', () => {
  it('turns Slack markup into plain text without the bot mention', () => {
    const text = '<@U0BOT> ask <@U0ADA|ada> in <#C1|general> about <https://x.org|this> &amp; &lt;that&gt;';
    expect(plainText(text, 'U0BOT')).toBe('ask @ada in #general about this & <that>');
    expect(mentionsBot(text, 'U0BOT')).toBe(true);
    expect(mentionsBot('hi <@U0ADA>', 'U0BOT')).toBe(false);
  });

  it('escapes only what Slack requires', () => {
    expect(escapeMrkdwn('a < b && c > d *bold*')).toBe('a &lt; b &amp;&amp; c &gt; d *bold*');
  });

  it('shows the answer so far, escaped, while a job streams', () => {
    const update = { jobId: 'j', state: 'running', progress: { tokens: 3, text: 'a <b>' } } as const;
    expect(statusText(update, 'The image depicts a photo of')).toBe(
      'The image depicts a photo of a &lt;b&gt; …',
    );
    expect(statusText({ jobId: 'j', state: 'queued', position: 2, estimatedWaitMs: 4000 }, '')).toMatch(
      /number 2 \(about 4 s\)/,
    );
  });
});
