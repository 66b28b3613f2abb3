import type { Config } from '../../config/index.js';

/** Where a message or interaction came from, as the allow-lists see it. */
export interface Place {
  /** `null` in direct messages. */
  readonly serverId: string | null;
  readonly channelId: string;
  /** A thread's parent channel (threads and forum posts count as their parent). */
  readonly parentId: string | null;
  readonly roleIds: readonly string[];
}

/** Whether the configured allow-lists let the bot serve this place; empty lists allow all. */
export function isAllowed(settings: Config['discord'], place: Place): boolean {
  if (place.serverId === null) return settings.directMessages;
  const listed = (list: readonly string[], ...ids: Array<string | null>) =>
    list.length === 0 || ids.some((id) => id !== null && list.includes(id));
  return (
    listed(settings.allowedServers, place.serverId) &&
    listed(settings.allowedChannels, place.channelId, place.parentId) &&
    listed(settings.allowedRoles, ...place.roleIds)
  );
}
