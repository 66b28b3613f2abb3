import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat } from '../../../src/engine/onnx/float16.js';

describe('float16', () => {
  it.each([
    [0, 0x0000, 0],
    [1, 0x3c00, 1],
    [-2, 0xc000, -2],
    [65504, 0x7bff, 65504],
    [2 ** -24, 0x0001, 2 ** -24],
    [0.1, 0x2e66, 0.0999755859375],
    [Number.POSITIVE_INFINITY, 0x7c00, Number.POSITIVE_INFINITY],
  ])('encodes %f as %s and decodes it as %f', (value, bits, decoded) => {
    expect(floatToHalf(value)).toBe(bits);
    expect(halfToFloat(bits)).toBe(decoded);
  });

  it('rounds ties to even and overflows to infinity', () => {
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00);
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(floatToHalf(70000)).toBe(0x7c00);
  });

  it('round-trips every finite half', () => {
    for (let bits = 0; bits < 0x7c00; bits += 7) expect(floatToHalf(halfToFloat(bits))).toBe(bits);
  });
});
