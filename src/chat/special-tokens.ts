/**
 * Emu's special-token strings and the escaping that keeps people's text free of them.
 *
 * The reference's slow tokenizer splits text on every added token (`[PAD]`, `[IMG]`, `[/IMG]`,
 * `<image>`, and for Emu-I `[USER]`, `[ASSISTANT]`) and on LLaMA's own `<s>`, `</s>`, `<unk>`. A
 * person who types `<image>` would otherwise add an image slot and shift every image after it.
 */

export const imageStartToken = '[IMG]';
export const imageEndToken = '[/IMG]';
export const imageToken = '<image>';
export const userToken = '[USER]';
export const assistantToken = '[ASSISTANT]';

/** Visual embeddings per image (the Causal Former's 32 queries). */
export const embeddingsPerImage = 32;

/** One image in a prompt: `[IMG]`, 32 `<image>` slots, `[/IMG]`. */
export const imagePlaceholder = imageStartToken + imageToken.repeat(embeddingsPerImage) + imageEndToken;

/** Every string the reference's tokenizer treats as one token, whatever the model variant. */
export const specialTokenStrings: readonly string[] = Object.freeze([
  '[PAD]',
  imageStartToken,
  imageEndToken,
  imageToken,
  userToken,
  assistantToken,
  '<s>',
  '</s>',
  '<unk>',
]);

const specialTokenPattern = new RegExp(
  specialTokenStrings.map((token) => token.replace(/[[\]/]/g, '\\$&')).join('|'),
  'g',
);

/**
 * Makes people's text safe to put in a prompt: a space goes after the opening bracket of every
 * special-token string (`<image>` becomes `< image>`, `[/IMG]` becomes `[ /IMG]`). Matching is
 * exact and case-sensitive, as the tokenizer's is (`[img]` is ordinary text and stays). No token
 * contains a space and no token's end overlaps another's start, so one pass leaves none behind.
 */
export function escapeText(text: string): string {
  return text.replace(specialTokenPattern, (token) => `${token.charAt(0)} ${token.slice(1)}`);
}
