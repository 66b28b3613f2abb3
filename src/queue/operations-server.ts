import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Secret } from '../core/index.js';

export interface ReadinessReport {
  readonly ready: boolean;
}

export interface OperationsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** Shown in the admin view (Bull Board) at /admin/queues. */
  readonly queues: readonly Queue[];
  /** Without it the admin view is off (404). */
  readonly adminToken: Secret | undefined;
  /** Every part of the process that must be ready; /readyz is 200 only when all are. */
  readonly readiness: ReadonlyArray<() => Promise<ReadinessReport>>;
  readonly logger: Logger;
}

export interface OperationsServer {
  readonly url: string;
  close(): Promise<void>;
}

const adminPath = '/admin/queues';

/**
 * The operator's view of a process: /livez (the process answers), /readyz (Redis, workers and
 * load; 503 with the reason when not ready), /metrics (Prometheus) and Bull Board at
 * /admin/queues behind the admin token (`Authorization: Bearer TOKEN`, or basic auth with the
 * token as password, so a browser can sign in).
 */
export async function startOperationsServer(options: OperationsServerOptions): Promise<OperationsServer> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/livez', (_request, response) => {
    response.json({ status: 'alive' });
  });
  app.get('/readyz', async (_request, response) => {
    const reports = await Promise.all(
      options.readiness.map((check) =>
        check().catch((error: unknown) => ({ ready: false, error: String(error) })),
      ),
    );
    const ready = reports.every((report) => report.ready);
    response.status(ready ? 200 : 503).json({ ready, checks: reports });
  });
  app.get('/metrics', async (_request, response) => {
    response.type(options.registry.contentType).send(await options.registry.metrics());
  });
  const token = options.adminToken;
  if (token === undefined) {
    options.logger.info('admin view off: set EMU_BOT_ADMIN__TOKEN to turn on /admin/queues');
  } else {
    const board = new ExpressAdapter();
    board.setBasePath(adminPath);
    createBullBoard({
      queues: options.queues.map((queue) => new BullMQAdapter(queue)),
      serverAdapter: board,
    });
    app.use(adminPath, requireToken(token.reveal()), board.getRouter());
  }

  const server = await listen(app, options.host, options.port);
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${options.host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) =>
      error === undefined ? resolve(server) : reject(error),
    );
  });
}

function requireToken(expected: string) {
  const expectedBytes = Buffer.from(expected);
  const matches = (given: string) => {
    const bytes = Buffer.from(given);
    return bytes.length === expectedBytes.length && timingSafeEqual(bytes, expectedBytes);
  };
  return (request: Request, response: Response, next: NextFunction) => {
    const header = request.headers.authorization ?? '';
    const [scheme, value = ''] = header.split(' ', 2);
    const given =
      scheme === 'Bearer'
        ? value
        : scheme === 'Basic'
          ? Buffer.from(value, 'base64').toString('utf8').split(':').slice(1).join(':')
          : '';
    if (given !== '' && matches(given)) {
      next();
      return;
    }
    response
      .set('WWW-Authenticate', 'Basic realm="emu-bot admin"')
      .status(401)
      .json({ error: 'admin token required' });
  };
}
