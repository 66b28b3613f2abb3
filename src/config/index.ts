export { configFileVariable, environmentPrefix, environmentVariableFor } from './environment.js';
export { defaultConfigFile, type LoadConfigOptions, type LoadedConfig, loadConfig } from './load.js';
export { renderConfig } from './render.js';
export { type Config, listConfigKeys, secretKeys } from './schema.js';
