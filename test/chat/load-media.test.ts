import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPrompt, type Conversation, loadConversationMedia, problemNotes } from '../../src/chat/index.js';
import { packageRoot } from '../../src/core/index.js';
import { AttachmentDownloader, createPixelsDecoder } from '../../src/media/index.js';
import { fixtureCounter } from './thread.js';

const cat = readFileSync(join(packageRoot, 'test', 'fixtures', 'pixels', 'cat.jpg'));

describe('loadConversationMedia', () => {
  it('answers the thread when one attachment is bad, listing the bad ones politely', async () => {
    const server = createServer((request, response) => {
      if (request.url === '/cat.jpg') return void response.end(cat);
      if (request.url === '/page.jpg') return void response.end('<!doctype html><p>not a picture</p>');
      if (request.url === '/moved.jpg')
        return void response.writeHead(301, { location: 'https://evil.example/x.jpg' }).end();
      if (request.url === '/slow.jpg') return void response.write(cat.subarray(0, 10));
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const attachment = (name: string) => ({
      id: name,
      name,
      url: `${base}/${name}`,
      declaredKind: 'image' as const,
    });
    const conversation: Conversation = {
      platform: 'discord',
      channel: { id: 'c1', nsfw: false },
      messages: [
        {
          id: 'm1',
          author: { id: 'u1', name: 'ada', role: 'person' },
          text: 'What animal is this?',
          attachments: [
            attachment('page.jpg'),
            attachment('cat.jpg'),
            attachment('moved.jpg'),
            attachment('slow.jpg'),
          ],
          sentAt: 0,
        },
      ],
    };
    const downloader = new AttachmentDownloader({
      allowedHosts: { discord: ['127.0.0.1'], slack: [] },
      allowLoopback: true,
      maxBytes: 5_000_000,
      connectTimeoutMs: 1000,
      headersTimeoutMs: 1000,
      totalTimeoutMs: 500,
      maxRedirects: 2,
      maxConcurrent: 2,
    });
    const decoder = createPixelsDecoder({
      maxBytes: 5_000_000,
      maxPixels: 40_000_000,
      maxFrames: 100,
      maxVideoSeconds: 60,
      ffmpegPath: 'ffmpeg',
      ffprobePath: 'ffprobe',
      ffmpegTimeoutMs: 10_000,
    });
    try {
      const outcomes = await loadConversationMedia(conversation, downloader, decoder);
      const built = buildPrompt(conversation, outcomes, {
        intent: 'answer',
        counter: await fixtureCounter(),
        seed: 1,
      });
      expect(built.request.images).toHaveLength(1);
      expect(built.request.prompt).toMatch(
        /^You will be presented with an image: .*\[\/IMG\]What animal is this\? \[ASSISTANT\]:$/,
      );
      expect(built.problems.map((problem) => [problem.attachment.name, problem.error.code])).toEqual([
        ['page.jpg', 'MEDIA_UNSUPPORTED'],
        ['moved.jpg', 'ATTACHMENT_HOST_NOT_ALLOWED'],
        ['slow.jpg', 'ATTACHMENT_DOWNLOAD_FAILED'],
      ]);
      expect(problemNotes(built.problems)[1]).toBe(
        'I skipped moved.jpg: I can only read files uploaded to this chat.',
      );
    } finally {
      await downloader.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
