import { randomUUID } from 'node:crypto';
import { type SimulatedMessage, simulatedIds } from './workspace.js';

/** Slack's payload shapes for what people do, as Socket Mode envelopes and HTTP requests carry them. */

export function eventCallback(event: Record<string, unknown>, eventId = `Ev${randomUUID()}`) {
  return {
    token: 'verification-token',
    team_id: simulatedIds.team,
    api_app_id: simulatedIds.app,
    event: { ...event, event_ts: event['ts'] },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        team_id: simulatedIds.team,
        user_id: simulatedIds.botUser,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
  };
}

export function slashCommand(
  command: string,
  text: string,
  user: string,
  channel: string,
  responseUrl: string,
) {
  return {
    token: 'verification-token',
    team_id: simulatedIds.team,
    team_domain: 'simulated',
    channel_id: channel,
    channel_name: 'general',
    user_id: user,
    user_name: user.toLowerCase(),
    command,
    text,
    api_app_id: simulatedIds.app,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: `trigger-${randomUUID()}`,
  };
}

export function blockAction(
  message: Record<string, unknown>,
  channel: string,
  action: { action_id: string; value: string },
  user: string,
  responseUrl: string,
) {
  return {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: simulatedIds.team },
    api_app_id: simulatedIds.app,
    token: 'verification-token',
    container: { type: 'message', message_ts: message['ts'], channel_id: channel, is_ephemeral: false },
    trigger_id: `trigger-${randomUUID()}`,
    team: { id: simulatedIds.team, domain: 'simulated' },
    channel: { id: channel, name: 'general' },
    message,
    response_url: responseUrl,
    actions: [{ ...action, block_id: 'emu-actions', type: 'button', action_ts: String(Date.now() / 1000) }],
  };
}

export function messageShortcut(
  callbackId: string,
  message: Record<string, unknown>,
  channel: string,
  user: string,
  responseUrl: string,
) {
  return {
    type: 'message_action',
    token: 'verification-token',
    action_ts: String(Date.now() / 1000),
    team: { id: simulatedIds.team, domain: 'simulated' },
    user: { id: user, name: user.toLowerCase() },
    channel: { id: channel, name: 'general' },
    callback_id: callbackId,
    trigger_id: `trigger-${randomUUID()}`,
    message_ts: message['ts'],
    message,
    response_url: responseUrl,
  };
}

export function viewSubmission(view: Record<string, unknown>, values: Record<string, unknown>, user: string) {
  return {
    type: 'view_submission',
    team: { id: simulatedIds.team, domain: 'simulated' },
    user: { id: user, username: user.toLowerCase(), team_id: simulatedIds.team },
    api_app_id: simulatedIds.app,
    token: 'verification-token',
    trigger_id: `trigger-${randomUUID()}`,
    view: { ...view, id: 'V0VIEW', team_id: simulatedIds.team, state: { values } },
  };
}

/** A person's message as an event carries it. */
export function messageEvent(message: SimulatedMessage, type: 'message' | 'app_mention', files: unknown[]) {
  return {
    type,
    user: message.user,
    text: message.text,
    ts: message.ts,
    channel: message.channel,
    channel_type: message.channel.startsWith('D') ? 'im' : 'channel',
    ...(message.thread_ts === undefined ? {} : { thread_ts: message.thread_ts }),
    ...(files.length === 0 ? {} : { files }),
  };
}
