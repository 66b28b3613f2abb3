/**
 * The reference's prompt strings (Emu1/inference.py), verbatim: the goldens are token ids, so a
 * space more or less is a different prompt. tools/emu_reference/prompts.py holds the same strings.
 */

export const imageSystemMessage =
  'You will be presented with an image: [IMG]ImageContent[/IMG]. You will be able to see the image ' +
  'after I provide it to you. Please answer my questions based on the given image.';

export const videoSystemMessage =
  'You are a helpful assistant and you will be presented with a video consisting of multiple ' +
  'chronological images: [IMG]ImageContent[/IMG]. You will be able to see the video after I ' +
  'provide it to you. Please answer my questions based on the given video.';

/** Several images, or none: the reference's interleaved example uses an empty system message. */
export const multiImageSystemMessage = '';

export const captionQuestion = 'Please provide an accurate and concise description of the given image.';

/** Written after `[ASSISTANT]:` for captions; the model continues it, so the reply starts with it. */
export const captionAnswerPrefix = 'The image depicts a photo of';

export interface InstructTurn {
  readonly role: 'user' | 'assistant';
  /** Interleaved text and image placeholders, already escaped. */
  readonly content: string;
}

/**
 * Emu-I's prompt, `{system} [USER]: {interleaved} [ASSISTANT]:`, stripped as the reference strips
 * it (an empty system message leaves no leading space). Earlier turns repeat the pattern:
 * `{system} [USER]: {u1} [ASSISTANT]: {a1} [USER]: {u2} [ASSISTANT]:`. The turns alternate and
 * end with the user's; `answerPrefix` follows the final `[ASSISTANT]:` after one space.
 */
export function instructPrompt(system: string, turns: readonly InstructTurn[], answerPrefix = ''): string {
  const body = turns
    .map((turn) => (turn.role === 'user' ? `[USER]: ${turn.content}` : `[ASSISTANT]: ${turn.content}`))
    .join(' ');
  const prompt = `${system} ${body} [ASSISTANT]:${answerPrefix === '' ? '' : ` ${answerPrefix}`}`;
  return system === '' ? prompt.slice(1) : prompt;
}
