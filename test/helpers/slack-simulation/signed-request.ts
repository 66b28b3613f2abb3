import { createHmac } from 'node:crypto';

export interface SignedRequestOptions {
  readonly secret: string;
  /** Seconds since the epoch; the real time by default (Bolt checks it against Date.now()). */
  readonly timestamp?: number;
  /** Signs with another secret, as a forger would. */
  readonly forge?: boolean;
}

export interface SignedRequest {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A request as Slack signs it: v0=hex(HMAC-SHA256(secret, "v0:{ts}:{body}")). */
export function signRequest(body: string, options: SignedRequestOptions): SignedRequest {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const key = options.forge === true ? `${options.secret}-forged` : options.secret;
  const signature = createHmac('sha256', key).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': `v0=${signature}`,
    },
  };
}

/** Sends a signed request; resolves with the status and body text. */
export async function sendSigned(
  url: string,
  request: SignedRequest,
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: request.headers, body: request.body });
  return { status: response.status, text: await response.text() };
}

/** A slash command's form body, as Slack posts it to the request URL. */
export function formBody(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}
