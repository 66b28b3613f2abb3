import { Document, isScalar } from 'yaml';
import { Secret } from '../core/index.js';
import type { LoadedConfig } from './load.js';
import { listConfigKeys } from './schema.js';

const notSet = '(not set)';

/** The configuration as people read it: secrets replaced, and where each value came from. */
function toDisplayTree(value: unknown): unknown {
  if (value instanceof Secret) return value.toJSON();
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([name, child]) => [name, toDisplayTree(child)]));
}

function withUnsetKeys(loaded: LoadedConfig): Record<string, unknown> {
  const tree = toDisplayTree(loaded.config) as Record<string, unknown>;
  for (const key of listConfigKeys()) {
    const parts = key.split('.');
    let node = tree;
    for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
    const last = parts[parts.length - 1] as string;
    if (node[last] === undefined) node[last] = notSet;
  }
  return tree;
}

export function renderConfig(loaded: LoadedConfig, format: 'yaml' | 'json'): string {
  const tree = withUnsetKeys(loaded);
  if (format === 'json') return `${JSON.stringify(tree, null, 2)}\n`;
  const document = new Document(tree);
  for (const [key, source] of loaded.sources) {
    const node = document.getIn(key.split('.'), true);
    if (isScalar(node)) node.comment = ` ${source}`;
  }
  return document.toString({ lineWidth: 0 });
}
