// `emu-bot chat` driven through a real terminal (tmux), as a person would use it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/core/index.js';
import { runExecutable } from '../helpers/cli.js';
import { TmuxTerminal } from '../helpers/terminal.js';

const executable = join(packageRoot, 'bin', 'emu-bot.js');
const scene = join(packageRoot, 'test', 'fixtures', 'shapes', 'heldout', 'scene-001.png');
const video = join(packageRoot, 'test', 'fixtures', 'pixels', 'counter.mp4');

let scratch: string;
let terminal: TmuxTerminal;
let prompts = 0;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'emu-bot-chat-'));
  terminal = TmuxTerminal.start(
    // The README's command: the bundled tiny models, no configuration, no tokens, no Redis.
    `env -i PATH="$PATH" HOME="${scratch}" "${process.execPath}" "${executable}" chat`,
    scratch,
  );
});
afterAll(() => {
  terminal.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Types a line and waits until the chat has handled it (the next `you>` prompt shows). */
async function say(line: string, timeoutMs = 20_000): Promise<string> {
  terminal.type(line);
  prompts += 1;
  return terminal.waitFor(/^you> /m, { count: prompts + 1, timeoutMs });
}

const answers = (screen: string) =>
  [...screen.matchAll(/^emu> (.*)$/gm)].map((match) => match[1]?.trim() ?? '');

describe('emu-bot chat in a terminal', () => {
  it('holds a short conversation: an image, a question, a follow-up, a video, a drawing, help and quit', async () => {
    await terminal.waitFor(/^you> /m);

    expect(await say(`/image ${scene}`)).toMatch(/attached .*scene-001\.png: image/);
    let screen = await say('what colour is the circle?');
    // The first turn is the one-shot question `emu-bot run` answers: the same words.
    const alone = await runExecutable(['run', '--image', scene, 'what colour is the circle?']);
    expect(alone.code).toBe(0);
    expect(answers(screen)).toEqual([alone.stdout.trim()]);

    screen = await say('how many shapes are there?');
    expect(answers(screen)).toHaveLength(2);
    expect(answers(screen)[1]).toMatch(/\w/);

    expect(await say(`/video ${video}`)).toMatch(/attached .*counter\.mp4: video, 8 frames/);
    // A drawing cannot start from a video; the video stays attached for the next message.
    expect(await say('/imagine a green triangle')).toMatch(/I can draw from still images only/);
    expect(await say('')).toMatch(/^emu> The image depicts a photo of/m);
    expect(await say('/image /no/such/picture.png')).toMatch(
      /I could not read \/no\/such\/picture\.png: there is no such file\./,
    );

    screen = await say('/imagine a green triangle', 60_000);
    const [, total] = /\[#{30}\] step (\d+)\/(\d+)/.exec(screen) ?? [];
    expect(screen).toContain(`step ${total}/${total}`);
    const path = /^emu> drew "a green triangle" \(seed 0\): (\S+\.png)$/m.exec(screen)?.[1] ?? '';
    expect(path.startsWith(join(scratch, 'emu-drawings'))).toBe(true);
    expect(readFileSync(path).subarray(1, 4).toString('latin1')).toBe('PNG');

    expect(await say('/help')).toMatch(/\/imagine TEXT +draw TEXT/);
    terminal.type('/quit');
    await terminal.waitFor(/\[exited 0\]/);
  }, 120_000);
});
