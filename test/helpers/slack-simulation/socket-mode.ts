import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

export type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

export interface Ack {
  readonly envelopeId: string;
  readonly payload: unknown;
  /** Milliseconds from sending the envelope to its ack. */
  readonly elapsedMs: number;
}

interface Pending {
  readonly sentAt: number;
  readonly resolve: (ack: Ack) => void;
}

/**
 * Slack's Socket Mode end: hands out connection URLs (apps.connections.open), says hello, sends
 * envelopes to the newest open connection and matches acks to them, and asks clients to
 * reconnect with a `disconnect` message as Slack does before it recycles a connection.
 */
export class SocketModeHub {
  readonly #server = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<WebSocket>();
  readonly #pending = new Map<string, Pending>();
  #tickets = 0;
  /** Connections made so far (each reconnect adds one). */
  connections = 0;

  /** A URL for apps.connections.open: `ws://127.0.0.1:P/link/?ticket=N`. */
  connectionUrl(port: number): string {
    this.#tickets += 1;
    return `ws://127.0.0.1:${port}/link/?ticket=${this.#tickets}`;
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#server.handleUpgrade(request, socket, head, (websocket) => {
      this.connections += 1;
      this.#sockets.add(websocket);
      websocket.on('close', () => this.#sockets.delete(websocket));
      websocket.on('message', (data) => this.#onMessage(String(data)));
      websocket.send(
        JSON.stringify({
          type: 'hello',
          num_connections: this.#sockets.size,
          debug_info: { host: 'simulated', approximate_connection_time: 3600 },
          connection_info: { app_id: 'A0APP' },
        }),
      );
    });
  }

  get openConnections(): number {
    return [...this.#sockets].filter((socket) => socket.readyState === socket.OPEN).length;
  }

  /** Sends an envelope; resolves with its ack (never, if it is not acknowledged). */
  send(type: EnvelopeType, payload: unknown, retryAttempt = 0, envelopeId = randomUUID()): Promise<Ack> {
    const socket = [...this.#sockets].reverse().find((candidate) => candidate.readyState === candidate.OPEN);
    if (socket === undefined) throw new Error('no Socket Mode connection is open');
    return new Promise((resolve) => {
      this.#pending.set(envelopeId, { sentAt: performance.now(), resolve });
      socket.send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== 'events_api',
          ...(type === 'events_api'
            ? { retry_attempt: retryAttempt, retry_reason: retryAttempt > 0 ? 'timeout' : '' }
            : {}),
        }),
      );
    });
  }

  /** Asks every client to reconnect, as Slack does before recycling a connection. */
  requestReconnect(): void {
    for (const socket of this.#sockets)
      socket.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested' }));
  }

  #onMessage(text: string): void {
    const message = JSON.parse(text) as { envelope_id?: string; payload?: unknown };
    if (message.envelope_id === undefined) return;
    const pending = this.#pending.get(message.envelope_id);
    if (pending === undefined) return;
    this.#pending.delete(message.envelope_id);
    pending.resolve({
      envelopeId: message.envelope_id,
      payload: message.payload,
      elapsedMs: performance.now() - pending.sentAt,
    });
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.terminate();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
