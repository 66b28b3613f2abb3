export { type EditRate, slackEditRate } from './edit-limiter.js';
export { createSlackAdapter, SlackAdapter, type SlackAdapterOptions } from './slack-adapter.js';
