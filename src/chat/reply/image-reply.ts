import type { ImageResult } from '../../engine/index.js';

/** What to do with a generated image the safety checker flags. */
export type FlaggedImagePolicy = 'refuse' | 'blur';

/** Blurs a PNG beyond recognition (the pixels module does it; sharp lives there). */
export interface ImageBlurrer {
  blurPng(png: Uint8Array): Promise<Uint8Array>;
}

export interface ReplyImage {
  readonly png: Uint8Array;
  readonly fileName: string;
  readonly altText: string;
  /** Posted hidden until clicked where the platform can (Discord's spoiler). */
  readonly spoiler: boolean;
}

export interface ImageReply {
  readonly image?: ReplyImage;
  /** Said next to the image, or instead of it. */
  readonly note?: string;
}

/** Platforms cap alt text (Discord at 1,024 characters). */
const maximumAltTextLength = 1000;

/**
 * A generated image as a reply: a PNG attachment with alt text saying what it was drawn from.
 * A flagged image is not posted as it is: with `refuse` it is left out with a polite note, with
 * `blur` it is blurred, marked as a spoiler, and its alt text and note say why.
 */
export async function imageReply(
  result: ImageResult,
  drawnFrom: string,
  policy: FlaggedImagePolicy,
  blurrer: ImageBlurrer,
): Promise<ImageReply> {
  const altText = truncate(`Image drawn by Emu from: ${drawnFrom}`);
  if (!result.flagged) return { image: { png: result.png, fileName: 'emu.png', altText, spoiler: false } };
  if (policy === 'refuse') {
    return {
      note: 'The safety checker flagged the image I drew, so I am not posting it. Please try another prompt.',
    };
  }
  return {
    image: {
      png: await blurrer.blurPng(result.png),
      fileName: 'emu-flagged.png',
      altText: truncate(`Blurred: flagged by the safety checker. ${altText}`),
      spoiler: true,
    },
    note: 'The safety checker flagged this image, so it is blurred.',
  };
}

function truncate(text: string): string {
  return text.length <= maximumAltTextLength ? text : `${text.slice(0, maximumAltTextLength - 1)}…`;
}
