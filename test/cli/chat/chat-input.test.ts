import { describe, expect, it } from 'vitest';
import { parseChatInput } from '../../../src/cli/chat/chat-input.js';

describe('parseChatInput', () => {
  it.each([
    ['  what is this?  ', { kind: 'message', text: 'what is this?' }],
    ['', { kind: 'message', text: '' }],
    ['/image ./cat.jpg', { kind: 'attach', path: './cat.jpg', as: 'image' }],
    ['/IMAGE "my cat.jpg"', { kind: 'attach', path: 'my cat.jpg', as: 'image' }],
    ["/video 'clip one.mp4'", { kind: 'attach', path: 'clip one.mp4', as: 'video' }],
    ['/imagine a green triangle', { kind: 'imagine', prompt: 'a green triangle' }],
    ['/help', { kind: 'help' }],
    ['/new', { kind: 'new-thread' }],
    ['/exit', { kind: 'quit' }],
  ])('reads %j', (line, expected) => {
    expect(parseChatInput(line)).toEqual(expected);
  });

  it.each([
    ['/image', /\/image needs a file path/],
    ['/imagine   ', /\/imagine needs something to draw/],
    ['/draw a cat', /there is no \/draw command/],
  ])('explains %j', (line, message) => {
    const input = parseChatInput(line);
    expect(input.kind).toBe('mistake');
    expect(input.kind === 'mistake' ? input.message : '').toMatch(message);
  });
});
