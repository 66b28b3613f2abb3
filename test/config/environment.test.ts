import { describe, expect, it } from 'vitest';
import { environmentVariableFor, listConfigKeys } from '../../src/config/index.js';

describe('environmentVariableFor', () => {
  it('follows the documented naming rule', () => {
    expect(environmentVariableFor('log.level')).toBe('EMU_BOT_LOG__LEVEL');
    expect(environmentVariableFor('shutdown.deadlineMs')).toBe('EMU_BOT_SHUTDOWN__DEADLINE_MS');
    expect(environmentVariableFor('slack.botToken')).toBe('EMU_BOT_SLACK__BOT_TOKEN');
    expect(environmentVariableFor('models.instruct.bundle')).toBe('EMU_BOT_MODELS__INSTRUCT__BUNDLE');
  });

  it('gives every key its own variable', () => {
    const keys = listConfigKeys();
    expect(new Set(keys.map(environmentVariableFor)).size).toBe(keys.length);
  });
});
