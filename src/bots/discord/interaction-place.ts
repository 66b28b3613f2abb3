import type { BaseInteraction, Channel as DiscordChannel } from 'discord.js';
import type { Channel } from '../../chat/index.js';
import type { Place } from './access.js';
import type { DiscordReference } from './reference.js';

/** Age-restricted channels; a thread or forum post takes its parent's flag. */
export function isNsfw(channel: DiscordChannel | null): boolean {
  if (channel === null || channel.isDMBased()) return false;
  if (channel.isThread()) return channel.parent !== null && 'nsfw' in channel.parent && channel.parent.nsfw;
  return 'nsfw' in channel && channel.nsfw === true;
}

export function interactionPlace(interaction: BaseInteraction): Place {
  const channel = interaction.channel;
  const roles = interaction.member?.roles;
  return {
    serverId: interaction.guildId,
    channelId: interaction.channelId ?? '',
    parentId: channel?.isThread() === true ? channel.parentId : null,
    roleIds: roles === undefined ? [] : Array.isArray(roles) ? roles : [...roles.cache.keys()],
  };
}

export function interactionChannel(interaction: BaseInteraction): Channel {
  return { id: interaction.channelId ?? '', nsfw: isNsfw(interaction.channel) };
}

export function interactionReference(interaction: BaseInteraction): DiscordReference {
  return {
    channelId: interaction.channelId ?? '',
    userId: interaction.user.id,
    interaction: { id: interaction.id, token: interaction.token, applicationId: interaction.applicationId },
  };
}
