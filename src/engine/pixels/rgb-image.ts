/** 8-bit RGB pixels, row by row, three bytes per pixel, no padding: what every decoder here yields. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** `width * height * 3` bytes. */
  readonly data: Uint8Array;
}

/** How the bundle's vision encoder wants its input: `size` x `size`, normalised per channel. */
export interface PixelSpec {
  readonly size: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}
