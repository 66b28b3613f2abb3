import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEmuBotError, Secret } from '../../src/core/index.js';
import { AttachmentDownloader, type DownloadOptions } from '../../src/media/index.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const seenAuthorization: (string | undefined)[] = [];
let slow: Server;
let files: { server: Server; base: string };
let other: { server: Server; base: string };

const options = (overrides: Partial<DownloadOptions> = {}): DownloadOptions => ({
  allowedHosts: { discord: ['127.0.0.1'], slack: ['127.0.0.1'] },
  allowLoopback: true,
  maxBytes: 1024,
  connectTimeoutMs: 1000,
  headersTimeoutMs: 1000,
  totalTimeoutMs: 1500,
  maxRedirects: 2,
  maxConcurrent: 2,
  slackBotToken: new Secret('xoxb-test-token'),
  ...overrides,
});

beforeAll(async () => {
  other = await listen((_request, response) => response.end(png));
  files = await listen((request, response) => {
    seenAuthorization.push(request.headers.authorization);
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (path === '/file.png') return void response.end(png);
    if (path === '/empty') return void response.end();
    if (path === '/big') return void response.end(Buffer.alloc(4096));
    if (path === '/big-chunked') {
      response.write(Buffer.alloc(800));
      response.write(Buffer.alloc(800));
      return void response.end();
    }
    if (path === '/expired') return void response.writeHead(403).end('expired');
    if (path === '/hop') return void response.writeHead(302, { location: '/file.png' }).end();
    if (path === '/loop') return void response.writeHead(302, { location: '/loop' }).end();
    if (path === '/elsewhere')
      return void response.writeHead(302, { location: 'https://example.com/x.png' }).end();
    if (path === '/localhost')
      return void response.writeHead(302, { location: other.base.replace('127.0.0.1', 'localhost') }).end();
    if (path === '/never-finishes') {
      response.writeHead(200, { 'content-type': 'image/png' });
      return void response.write(png.subarray(0, 4));
    }
    if (path === '/no-headers') return;
    response.writeHead(404).end();
  });
  slow = files.server;
});

afterAll(async () => {
  slow.closeAllConnections();
  other.server.closeAllConnections();
  await Promise.all(
    [files.server, other.server].map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isEmuBotError(error)) throw new Error(`expected an EmuBotError, got ${String(error)}`);
  return error;
}

describe('AttachmentDownloader', () => {
  it('downloads a file, following a redirect on the same host', async () => {
    const downloader = new AttachmentDownloader(options());
    expect(Buffer.from(await downloader.download('discord', `${files.base}/file.png`))).toEqual(png);
    expect(Buffer.from(await downloader.download('discord', `${files.base}/hop`))).toEqual(png);
    await downloader.close();
  });

  it('sends the Slack bot token to Slack file hosts only', async () => {
    const downloader = new AttachmentDownloader(options());
    seenAuthorization.length = 0;
    await downloader.download('slack', `${files.base}/file.png`);
    await downloader.download('discord', `${files.base}/file.png`);
    expect(seenAuthorization).toEqual(['Bearer xoxb-test-token', undefined]);
    await downloader.close();
  });

  it('refuses hosts that are not the platform’s, before and after a redirect', async () => {
    const downloader = new AttachmentDownloader(
      options({ allowedHosts: { discord: ['127.0.0.1'], slack: [] } }),
    );
    const direct = await failure(downloader.download('slack', `${files.base}/file.png`));
    expect(direct.code).toBe('ATTACHMENT_HOST_NOT_ALLOWED');
    expect(direct.userMessage).toBe('I can only read files uploaded to this chat.');
    const redirected = await failure(downloader.download('discord', `${files.base}/elsewhere`));
    expect(redirected.code).toBe('ATTACHMENT_HOST_NOT_ALLOWED');
    expect(redirected.message).toContain('example.com');
    await downloader.close();
  });

  it('refuses a host name that resolves to loopback when loopback is not allowed (checked at connect)', async () => {
    const downloader = new AttachmentDownloader(
      options({ allowedHosts: { discord: ['127.0.0.1', 'localhost'], slack: [] }, allowLoopback: true }),
    );
    // Allowed: loopback on, so localhost may resolve to 127.0.0.1 / ::1.
    expect(Buffer.from(await downloader.download('discord', `${files.base}/localhost`))).toEqual(png);
    await downloader.close();
    const strict = new AttachmentDownloader(
      options({ allowedHosts: { discord: ['localhost'], slack: [] }, allowLoopback: false }),
    );
    const port = new URL(other.base).port;
    const plain = await failure(strict.download('discord', `http://localhost:${port}/x`));
    expect(plain.message).toContain('http: is not https:');
    const https = await failure(strict.download('discord', `https://localhost:${port}/x`));
    expect(https.code).toBe('ATTACHMENT_HOST_NOT_ALLOWED');
    expect(https.message).toMatch(/resolves to .*not only public addresses/);
    await strict.close();
  });

  it('cuts off a file past maxBytes, whether announced or streamed', async () => {
    const downloader = new AttachmentDownloader(options());
    const announced = await failure(downloader.download('discord', `${files.base}/big`));
    expect(announced.message).toContain('4096 bytes or more, past attachments.maxBytes 1024');
    expect((await failure(downloader.download('discord', `${files.base}/big-chunked`))).code).toBe(
      'MEDIA_TOO_LARGE',
    );
    await downloader.close();
  });

  it('gives an HTTP error and a redirect loop as ATTACHMENT_DOWNLOAD_FAILED without the query string', async () => {
    const downloader = new AttachmentDownloader(options());
    const expired = await failure(downloader.download('discord', `${files.base}/expired?ex=1&hm=signature`));
    expect(expired.code).toBe('ATTACHMENT_DOWNLOAD_FAILED');
    expect(expired.message).toContain('HTTP 403');
    expect(expired.message).not.toContain('signature');
    const loop = await failure(downloader.download('discord', `${files.base}/loop`));
    expect(loop.message).toContain('more than 2 redirects');
    await downloader.close();
  });

  it('gives up on a server that never finishes, or never answers, within the timeouts', async () => {
    const downloader = new AttachmentDownloader(options({ totalTimeoutMs: 400, headersTimeoutMs: 300 }));
    const started = Date.now();
    const never = await failure(downloader.download('discord', `${files.base}/never-finishes`));
    expect(never.code).toBe('ATTACHMENT_DOWNLOAD_FAILED');
    expect(never.userMessage).toContain('took too long');
    const silent = await failure(downloader.download('discord', `${files.base}/no-headers`));
    expect(silent.userMessage).toContain('took too long');
    expect(Date.now() - started).toBeLessThan(2000);
    await downloader.close();
  });

  it('reports a cancelled download as ABORTED', async () => {
    const downloader = new AttachmentDownloader(options());
    const controller = new AbortController();
    const pending = downloader.download('discord', `${files.base}/never-finishes`, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect((await failure(pending)).code).toBe('ABORTED');
    await downloader.close();
  });

  it('returns an empty body as empty bytes (the loader turns it into MEDIA_UNDECODABLE)', async () => {
    const downloader = new AttachmentDownloader(options());
    expect((await downloader.download('discord', `${files.base}/empty`)).byteLength).toBe(0);
    await downloader.close();
  });
});
