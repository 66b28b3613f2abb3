export { type GatewayCounters, SimGateway } from './gateway.js';
export { type CommandOption, DiscordSimulation } from './simulation.js';
export type { SimAttachment, SimChannel, SimGuild, SimInteraction, SimMessage, SimUser } from './store.js';
