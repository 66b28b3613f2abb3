import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPModuleFunctions, type HTTPReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import type { SlackStore } from './slack-store.js';

/**
 * HTTP mode's server: each request's signature and timestamp are checked as Bolt checks them
 * (5 minutes), then its signature is claimed in Redis, so a request replayed inside the window
 * is refused (401) by every bot process; what passes goes to Bolt's receiver.
 */
export class HttpTransport {
  readonly #server: Server;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(receiver: HTTPReceiver, signingSecret: string, store: SlackStore, logger: Logger) {
    this.#logger = logger;
    this.#server = createServer((request, response) => {
      void this.#handle(request, response, receiver, signingSecret, store);
    });
  }

  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => resolve());
    });
    const address = this.#server.address() as AddressInfo;
    return `http://${address.address}:${address.port}`;
  }

  close(): Promise<void> {
    this.#closing ??= new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  async #handle(
    request: IncomingMessage,
    response: ServerResponse,
    receiver: HTTPReceiver,
    signingSecret: string,
    store: SlackStore,
  ): Promise<void> {
    try {
      await HTTPModuleFunctions.parseAndVerifyHTTPRequest({ signingSecret }, request);
    } catch (error) {
      this.#logger.warn(
        { reason: (error as Error).message },
        'refused a Slack request that failed verification',
      );
      HTTPModuleFunctions.buildNoBodyResponse(response, 401);
      return;
    }
    // Only ssl_check requests pass verification unsigned, and Bolt strips everything else from them.
    const signature = request.headers['x-slack-signature'];
    try {
      if (typeof signature === 'string' && !(await store.firstSignature(signature))) {
        this.#logger.warn('refused a replayed Slack request');
        HTTPModuleFunctions.buildNoBodyResponse(response, 401);
        return;
      }
    } catch (error) {
      this.#logger.error({ err: error }, 'cannot check Slack requests for replays');
      HTTPModuleFunctions.buildNoBodyResponse(response, 503);
      return;
    }
    receiver.requestListener(request, response);
  }
}
