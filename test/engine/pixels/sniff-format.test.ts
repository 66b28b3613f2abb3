import { describe, expect, it } from 'vitest';
import { sniffFormat } from '../../../src/engine/pixels/sniff-format.js';
import { fixture } from './fixtures.js';

describe('sniffFormat', () => {
  it.each([
    ['rgb.png', { kind: 'image', format: 'png' }],
    ['png-named.jpg', { kind: 'image', format: 'png' }],
    ['cat.jpg', { kind: 'image', format: 'jpeg' }],
    ['counter.gif', { kind: 'image', format: 'gif' }],
    ['counter.webp', { kind: 'image', format: 'webp' }],
    ['rgb.tiff', { kind: 'image', format: 'tiff' }],
    ['rgb.avif', { kind: 'image', format: 'avif' }],
    ['counter.mp4', { kind: 'video', container: 'mp4' }],
    ['counter.mov', { kind: 'video', container: 'mp4' }],
    ['counter.webm', { kind: 'video', container: 'webm' }],
    ['text-named.png', { kind: 'unknown' }],
  ])('reads %s by its content', (name, expected) => {
    expect(sniffFormat(fixture(name))).toEqual(expected);
  });

  it('takes a short or empty file for unknown rather than failing', () => {
    expect(sniffFormat(new Uint8Array())).toEqual({ kind: 'unknown' });
    expect(sniffFormat(new Uint8Array([0, 0, 0, 99, 0x66, 0x74, 0x79, 0x70]))).toEqual({
      kind: 'video',
      container: 'mp4',
    });
  });
});
