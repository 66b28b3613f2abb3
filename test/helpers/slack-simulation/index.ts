export { firstPartBytes } from './multipart.js';
export { eventCallback, messageEvent, slashCommand } from './payloads.js';
export { formBody, type SignedRequest, sendSigned, signRequest } from './signed-request.js';
export {
  type PersonMessage,
  type Sent,
  type SimulationOptions,
  SlackSimulation,
} from './slack-simulation.js';
export { type Ack, type EnvelopeType, SocketModeHub } from './socket-mode.js';
export { type ApiCall, WebApi } from './web-api.js';
export { type SimulatedFile, type SimulatedMessage, simulatedIds, Workspace } from './workspace.js';
