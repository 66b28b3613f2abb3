import type { IncomingMessage } from 'node:http';
import { type SimAttachment, type SimMessage, SimStore, type SimUser } from './store.js';

/** The JSON fields of the bodies the simulation reads. */
export interface BodyJson {
  content?: string;
  components?: unknown[];
  embeds?: unknown[];
  flags?: number;
  attachments?: Array<{ id: string | number; description?: string }>;
  message_reference?: { message_id: string };
  nonce?: string;
  enforce_nonce?: boolean;
  name?: string;
  type?: number;
  data?: BodyJson;
}

/** A message body as discord.js sends it: JSON, or multipart with `payload_json` and `files[n]`. */
export interface MessageBody {
  readonly json: BodyJson;
  readonly files: ReadonlyArray<{
    readonly index: number;
    readonly name: string;
    readonly bytes: Uint8Array;
    readonly type: string;
  }>;
}

export async function readBody(request: IncomingMessage): Promise<MessageBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const type = request.headers['content-type'] ?? '';
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': type } }).formData();
    const files: Array<MessageBody['files'][number]> = [];
    let json: BodyJson = {};
    for (const [name, value] of form.entries()) {
      if (name === 'payload_json' && typeof value === 'string') json = JSON.parse(value);
      else if (typeof value !== 'string') {
        const index = Number(/files\[(\d+)\]/.exec(name)?.[1] ?? files.length);
        files.push({
          index,
          name: value.name,
          bytes: new Uint8Array(await value.arrayBuffer()),
          type: value.type,
        });
      }
    }
    return { json, files };
  }
  return { json: raw.byteLength === 0 ? {} : JSON.parse(raw.toString()), files: [] };
}

/** The attachments a message body describes: new uploads, and existing ones it keeps by id. */
export function bodyAttachments(
  store: SimStore,
  body: MessageBody,
  channelId: string,
  existing: readonly SimAttachment[],
): SimAttachment[] | undefined {
  const listed = body.json.attachments;
  if (listed === undefined && body.files.length === 0) return undefined;
  const uploads = new Map(body.files.map((file) => [String(file.index), file]));
  const result: SimAttachment[] = [];
  const entries: Array<{ id: string | number; description?: string }> =
    listed ?? body.files.map((file) => ({ id: file.index }));
  for (const entry of entries) {
    const upload = uploads.get(String(entry.id));
    if (upload !== undefined) {
      const stored = store.attach(
        upload.name,
        upload.bytes,
        upload.type || 'application/octet-stream',
        channelId,
      );
      result.push(entry.description === undefined ? stored : { ...stored, description: entry.description });
    } else {
      const kept = existing.find((attachment) => attachment.id === String(entry.id));
      if (kept !== undefined) result.push(kept);
    }
  }
  return result;
}

/** Applies a create or edit body (content, components, embeds, flags, attachments) to a message. */
export function applyBody(store: SimStore, message: SimMessage, body: MessageBody): void {
  const json = body.json;
  if (typeof json.content === 'string') message.content = json.content;
  if (Array.isArray(json.components)) message.components = json.components;
  if (Array.isArray(json.embeds)) message.embeds = json.embeds;
  if (typeof json.flags === 'number') message.flags = json.flags;
  const attachments = bodyAttachments(store, body, message.channel_id, message.attachments);
  if (attachments !== undefined) message.attachments = attachments;
  message.history.push(message.content);
  message.historyAt.push(Date.now());
}

export function newMessage(
  store: SimStore,
  channelId: string,
  author: SimUser,
  body: MessageBody,
): SimMessage {
  const reference = body.json.message_reference;
  const message = store.addMessage({
    channel_id: channelId,
    author,
    ...(reference === undefined
      ? {}
      : { message_reference: { message_id: reference.message_id, channel_id: channelId } }),
    ...(typeof body.json.nonce === 'string' ? { nonce: body.json.nonce } : {}),
    history: [],
    historyAt: [],
  });
  message.history.length = 0;
  message.historyAt.length = 0;
  applyBody(store, message, body);
  return message;
}

export const wire = SimStore.wire;
