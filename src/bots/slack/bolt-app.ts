import { App, type Logger as BoltLogger, HTTPReceiver, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import { EmuBotError } from '../../core/index.js';
import type { SlackStore } from './slack-store.js';

export interface BoltParts {
  readonly app: App;
  /** Set in HTTP mode: the adapter serves it behind its own replay check. */
  readonly receiver?: HTTPReceiver;
}

/**
 * Bolt, as the configuration says: Socket Mode (app token) or HTTP mode (signing secret, Bolt's
 * receiver verifying signatures and timestamps). Initialisation (auth.test) is deferred to
 * `app.init()` so that start-up awaits it and reports a bad token.
 */
export function createBoltApp(config: Config, logger: Logger): BoltParts {
  const { slack } = config;
  const token = required(slack.botToken?.reveal(), 'slack.botToken', 'EMU_BOT_SLACK__BOT_TOKEN');
  const common = {
    token,
    deferInitialization: true,
    convoStore: false as const,
    logger: boltLogger(logger),
    // Bolt's web client retries for up to half an hour by default; a delivery has a lease, and the
    // queue tries it again, so a few quick retries are enough.
    clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 2, factor: 2, minTimeout: 500 } },
  };
  if (slack.mode === 'socket') {
    const appToken = required(slack.appToken?.reveal(), 'slack.appToken', 'EMU_BOT_SLACK__APP_TOKEN');
    return { app: new App({ ...common, appToken, socketMode: true }) };
  }
  const signingSecret = required(
    slack.signingSecret?.reveal(),
    'slack.signingSecret',
    'EMU_BOT_SLACK__SIGNING_SECRET',
  );
  const receiver = new HTTPReceiver({
    signingSecret,
    endpoints: [slack.http.path],
    logger: boltLogger(logger),
  });
  return { app: new App({ ...common, receiver }), receiver };
}

/** Drops Bolt events already seen: Slack retries an event it thinks was not acknowledged. */
export function dropRetriedEvents(app: App, store: () => SlackStore): void {
  app.use(async ({ body, next }) => {
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string' && !(await store().firstDelivery(eventId))) return;
    await next();
  });
}

function required(value: string | undefined, key: string, variable: string): string {
  if (value !== undefined) return value;
  throw new EmuBotError('CONFIG_INVALID', `${key} is required for Slack in this mode; set ${variable}`);
}

/** Bolt's logger interface over pino; Bolt's chatty info lines go to debug. */
function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'slack' });
  let level = LogLevel.INFO;
  return {
    debug: (...message: unknown[]) => child.debug(message.map(String).join(' ')),
    info: (...message: unknown[]) => child.debug(message.map(String).join(' ')),
    warn: (...message: unknown[]) => child.warn(message.map(String).join(' ')),
    error: (...message: unknown[]) => child.error(message.map(String).join(' ')),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
