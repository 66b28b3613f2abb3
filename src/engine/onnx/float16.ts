/** IEEE 754 half precision, for fp16 bundles: onnxruntime-node hands float16 tensors over as raw Uint16Array. */

const scratch = new DataView(new ArrayBuffer(4));

export function halfToFloat(half: number): number {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >> 10) & 0x1f;
  const fraction = half & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Round to nearest even, as PyTorch's `.half()` does. */
export function floatToHalf(value: number): number {
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  let mantissa = bits & 0x7fffff;
  if (((bits >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - exponent;
    const halfMantissa = mantissa >> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const rounded =
      remainder > halfway || (remainder === halfway && (halfMantissa & 1) === 1)
        ? halfMantissa + 1
        : halfMantissa;
    return sign | rounded;
  }
  const halfBits = sign | (exponent << 10) | (mantissa >> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (halfBits & 1) === 1)) return halfBits + 1;
  return halfBits;
}

export function halvesToFloats(halves: Uint16Array): Float32Array {
  const floats = new Float32Array(halves.length);
  for (let index = 0; index < halves.length; index++) floats[index] = halfToFloat(halves[index] as number);
  return floats;
}

export function floatsToHalves(floats: Float32Array): Uint16Array {
  const halves = new Uint16Array(floats.length);
  for (let index = 0; index < floats.length; index++) halves[index] = floatToHalf(floats[index] as number);
  return halves;
}
