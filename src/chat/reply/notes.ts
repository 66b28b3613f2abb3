import type { Omission } from '../budget.js';
import type { AttachmentProblem } from '../prompt-message.js';

/** One polite line on what the context budget left out, or undefined when nothing was. */
export function omissionNote(omission: Omission): string | undefined {
  const parts: string[] = [];
  if (omission.messages > 0) parts.push(plural(omission.messages, 'earlier message'));
  const cutFromRequest = omission.truncatedWords > 0 ? plural(omission.truncatedWords, 'word') : undefined;
  const media = [plural(omission.images, 'image'), plural(omission.videos, 'video')].filter(
    (part) => !part.startsWith('0 '),
  );
  if (parts.length === 0 && media.length === 0 && cutFromRequest === undefined) return undefined;
  const left: string[] = [...parts];
  if (media.length > 0) left.push(`${media.join(' and ')}${parts.length > 0 ? ' among them' : ''}`);
  const sentences: string[] = [];
  if (left.length > 0) sentences.push(`I could not fit everything, so I left out ${left.join(', ')}.`);
  if (cutFromRequest !== undefined)
    sentences.push(`I read only the end of your message (the first ${cutFromRequest} did not fit).`);
  return sentences.join(' ');
}

/** One line per attachment that could not be used, with the error's message for people. */
export function problemNotes(problems: readonly AttachmentProblem[]): string[] {
  return problems.map((problem) => `I skipped ${problem.attachment.name}: ${problem.error.userMessage}`);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
