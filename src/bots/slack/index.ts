export { createSlackAdapter, SlackAdapter } from './slack-adapter.js';
