import { type Agent, fetch } from 'undici';
import { EmuBotError, isEmuBotError, type Secret } from '../core/index.js';
import { checkUrl, type FilePlatform, type HostPolicyOptions } from './host-policy.js';
import { createSafeAgent } from './safe-agent.js';
import { Semaphore } from './semaphore.js';

export interface DownloadOptions extends HostPolicyOptions {
  /** Larger files are cut off while they stream (nothing past the cap is buffered). */
  readonly maxBytes: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  /** For the whole download, redirects included. */
  readonly totalTimeoutMs: number;
  readonly maxRedirects: number;
  readonly maxConcurrent: number;
  /** Sent as `Authorization: Bearer` to Slack's file hosts only. */
  readonly slackBotToken?: Secret;
}

const downloadFailedMessage = 'I could not fetch that file; it may have expired. Please upload it again.';

/**
 * Fetches attachments from the platforms' own file hosts: every hop's URL checked, redirects
 * followed by hand and only to allowed hosts, the connection's addresses checked, a byte cap
 * while streaming, timeouts, and a bound on downloads at once. Owns an undici Agent: `close()` it.
 */
export class AttachmentDownloader {
  readonly #options: DownloadOptions;
  readonly #agent: Agent;
  readonly #slots: Semaphore;
  #closing: Promise<void> | undefined;

  constructor(options: DownloadOptions) {
    this.#options = options;
    this.#slots = new Semaphore(options.maxConcurrent);
    this.#agent = createSafeAgent({
      allowLoopback: options.allowLoopback,
      connectTimeoutMs: options.connectTimeoutMs,
      headersTimeoutMs: options.headersTimeoutMs,
      bodyTimeoutMs: options.totalTimeoutMs,
    });
  }

  download(platform: FilePlatform, url: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#slots.run(() => this.#download(platform, url, signal));
  }

  close(): Promise<void> {
    this.#closing ??= this.#agent.close();
    return this.#closing;
  }

  async #download(platform: FilePlatform, url: string, callerSignal?: AbortSignal): Promise<Uint8Array> {
    const timeout = AbortSignal.timeout(this.#options.totalTimeoutMs);
    const signal = callerSignal === undefined ? timeout : AbortSignal.any([callerSignal, timeout]);
    const where = describe(url);
    try {
      let target = parseUrl(url);
      for (let hop = 0; ; hop += 1) {
        checkUrl(target, platform, this.#options);
        const response = await fetch(target, {
          redirect: 'manual',
          signal,
          dispatcher: this.#agent,
          headers: this.#headers(platform),
        });
        const location = response.headers.get('location');
        if (response.status >= 300 && response.status < 400 && location !== null) {
          await response.body?.cancel();
          if (hop >= this.#options.maxRedirects) {
            throw failed(`${where}: more than ${this.#options.maxRedirects} redirects`);
          }
          target = parseUrl(location, target);
          continue;
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw failed(`${where}: HTTP ${response.status}`);
        }
        return await this.#readCapped(response.body, response.headers.get('content-length'), where);
      }
    } catch (error) {
      throw explain(error, where, callerSignal, timeout, this.#options.totalTimeoutMs);
    }
  }

  #headers(platform: FilePlatform): Record<string, string> {
    const token = this.#options.slackBotToken;
    return platform === 'slack' && token !== undefined ? { authorization: `Bearer ${token.reveal()}` } : {};
  }

  async #readCapped(
    body: ReadableStream<Uint8Array> | null,
    length: string | null,
    where: string,
  ): Promise<Uint8Array> {
    const { maxBytes } = this.#options;
    if (length !== null && Number(length) > maxBytes) {
      await body?.cancel();
      throw tooLarge(where, Number(length), maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = body?.getReader();
    for (let read = await reader?.read(); read !== undefined && !read.done; read = await reader?.read()) {
      total += read.value.byteLength;
      if (total > maxBytes) {
        await reader?.cancel();
        throw tooLarge(where, total, maxBytes);
      }
      chunks.push(read.value);
    }
    return Buffer.concat(chunks, total);
  }
}

/** Logs show where a file came from, never its query string (signed URLs carry tokens). */
function describe(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'an unparseable URL';
  }
}

function parseUrl(text: string, base?: URL): URL {
  try {
    return new URL(text, base);
  } catch (error) {
    throw failed(`not a URL: ${describe(text)}`, error);
  }
}

function failed(message: string, cause?: unknown, userMessage = downloadFailedMessage): EmuBotError {
  return new EmuBotError('ATTACHMENT_DOWNLOAD_FAILED', message, { cause, userMessage });
}

function tooLarge(where: string, bytes: number, maxBytes: number): EmuBotError {
  return new EmuBotError(
    'MEDIA_TOO_LARGE',
    `${where}: ${bytes} bytes or more, past attachments.maxBytes ${maxBytes}`,
    { userMessage: `That file is larger than the ${Math.floor(maxBytes / 1048576)} MB I can read.` },
  );
}

function explain(
  error: unknown,
  where: string,
  callerSignal: AbortSignal | undefined,
  timeout: AbortSignal,
  totalTimeoutMs: number,
): EmuBotError {
  const own = findEmuBotError(error);
  if (own !== undefined) return own;
  if (callerSignal?.aborted === true)
    return new EmuBotError('ABORTED', `download of ${where} was cancelled`, { cause: error });
  const slow = 'Fetching that file took too long. Please try again.';
  if (timeout.aborted) return failed(`${where}: no complete answer within ${totalTimeoutMs} ms`, error, slow);
  const reason = error instanceof Error ? `${error.message}${causeText(error)}` : String(error);
  if (/timeout/i.test(reason)) return failed(`${where}: ${reason}`, error, slow);
  return failed(`${where}: ${reason}`, error);
}

function findEmuBotError(error: unknown): EmuBotError | undefined {
  for (let current = error, depth = 0; current !== undefined && depth < 5; depth += 1) {
    if (isEmuBotError(current)) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

function causeText(error: Error): string {
  return error.cause instanceof Error ? ` (${error.cause.message})` : '';
}
