/** Formats emu-bot reads, told apart by their first bytes, never by a file name or a MIME type. */
export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'avif' | 'tiff';
export type VideoContainer = 'mp4' | 'webm';

export type SniffedFormat =
  | { readonly kind: 'image'; readonly format: ImageFormat }
  | { readonly kind: 'video'; readonly container: VideoContainer }
  /** HEIC needs an HEVC decoder that sharp's libvips does not ship; named so the message can say so. */
  | { readonly kind: 'heic' }
  | { readonly kind: 'unknown' };

const heicBrands = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs']);
const avifBrands = new Set(['avif', 'avis']);
/** QuickTime files written before `ftyp` existed start with one of these atoms instead. */
const quickTimeAtoms = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

/**
 * Sniffing first, rather than handing anything to sharp, keeps out the other formats libvips
 * would happily read (SVG, PDF, PPM, FITS, ...) and routes ISO-BMFF files: AVIF is an image,
 * MP4 and MOV share a container with it and go to ffmpeg.
 */
export function sniffFormat(bytes: Uint8Array): SniffedFormat {
  const ascii = (start: number, end: number): string => String.fromCharCode(...bytes.subarray(start, end));
  const startsWith = (...values: number[]): boolean => values.every((value, at) => bytes[at] === value);
  if (startsWith(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return image('png');
  if (startsWith(0xff, 0xd8, 0xff)) return image('jpeg');
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return image('gif');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return image('webp');
  if (startsWith(0x49, 0x49, 0x2a, 0x00) || startsWith(0x4d, 0x4d, 0x00, 0x2a)) return image('tiff');
  if (startsWith(0x1a, 0x45, 0xdf, 0xa3)) return { kind: 'video', container: 'webm' };
  const atom = ascii(4, 8);
  if (atom === 'ftyp') {
    const brands = fileTypeBrands(bytes);
    if (brands.some((brand) => avifBrands.has(brand))) return image('avif');
    if (brands.some((brand) => heicBrands.has(brand))) return { kind: 'heic' };
    return { kind: 'video', container: 'mp4' };
  }
  if (quickTimeAtoms.has(atom)) return { kind: 'video', container: 'mp4' };
  return { kind: 'unknown' };
}

function image(format: ImageFormat): SniffedFormat {
  return { kind: 'image', format };
}

/** The major brand and the compatible brands of an ISO-BMFF `ftyp` box. */
function fileTypeBrands(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxSize = Math.min(bytes.length >= 4 ? view.getUint32(0) : 0, bytes.length);
  const brands: string[] = [];
  for (let at = 8; at + 4 <= boxSize; at += at === 8 ? 8 : 4) {
    brands.push(String.fromCharCode(...bytes.subarray(at, at + 4)));
  }
  return brands;
}
