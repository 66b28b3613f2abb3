import { EmuBotError } from '../core/index.js';
import type {
  ImageGenerationSettings,
  ImageRequest,
  TextGenerationSettings,
  TextRequest,
} from '../engine/index.js';
import type { MediaOutcome } from '../media/index.js';
import { fitToBudget, nothingOmitted, type Omission, type TokenCounter } from './budget.js';
import { type Conversation, type Intent, requestMessage } from './conversation.js';
import {
  type AttachmentProblem,
  collectImages,
  isEmptyMessage,
  type PromptMessage,
  toPromptMaterial,
} from './prompt-message.js';
import {
  type DrawingKind,
  maximumImagesToDraw,
  renderAnswerPrompt,
  renderContinuePrompt,
  renderDescribePrompt,
  renderImaginePrompt,
  systemMessageFor,
} from './render.js';
import {
  emuContextLength,
  imageGenerationPositions,
  referenceImageSettings,
  referenceTextSettings,
} from './settings.js';
import { captionAnswerPrefix, videoSystemMessage } from './templates.js';

export interface PromptOptions {
  readonly intent: Intent;
  readonly counter: TokenCounter;
  /** For image generation. */
  readonly seed: number;
  readonly contextLength?: number;
  /** Images one request may carry (a video counts 8): the queue's `queue.payload.maxImages`. */
  readonly maxImages?: number;
  /** Overrides of the reference's settings for this intent. */
  readonly text?: Partial<TextGenerationSettings>;
  readonly image?: Partial<Omit<ImageGenerationSettings, 'seed'>>;
}

interface BuiltCommon {
  readonly omission: Omission;
  /** Attachments left out because they could not be fetched or read. */
  readonly problems: readonly AttachmentProblem[];
}

export interface BuiltTextPrompt extends BuiltCommon {
  readonly kind: 'text';
  /** `request.model` says which model runs it. */
  readonly request: TextRequest;
  /** Already in the prompt after `[ASSISTANT]:`; put it before the model's answer in the reply. */
  readonly answerPrefix: string;
}

export interface BuiltImagePrompt extends BuiltCommon {
  readonly kind: 'image';
  readonly request: ImageRequest;
  readonly drawing: DrawingKind;
}

export type BuiltPrompt = BuiltTextPrompt | BuiltImagePrompt;

/**
 * Builds the engine request for what the person asked, from the conversation up to their newest
 * message and its attachments' outcomes. Bad attachments are left out and listed in `problems`;
 * when nothing usable is left of the request, the first problem is thrown.
 */
export function buildPrompt(
  conversation: Conversation,
  outcomes: ReadonlyMap<string, MediaOutcome>,
  options: PromptOptions,
): BuiltPrompt {
  const request = requestMessage(conversation);
  if (request === undefined)
    throw new EmuBotError('INTERNAL', 'the conversation has no message from a person');
  const upToRequest = {
    ...conversation,
    messages: conversation.messages.slice(0, conversation.messages.indexOf(request) + 1),
  };
  const { messages, problems } = toPromptMaterial(upToRequest, outcomes);
  const requestMaterial = messages.at(-1) as PromptMessage;
  const ask = { messages, problems, requestMaterial, replyToId: request.replyToId, options };
  switch (options.intent) {
    case 'answer':
    case 'continue':
      return buildThreadPrompt(ask, options.intent);
    case 'describe':
      return buildDescribePrompt(ask);
    case 'imagine':
      return buildImaginePrompt(ask);
  }
}

interface Ask {
  readonly messages: readonly PromptMessage[];
  readonly problems: readonly AttachmentProblem[];
  readonly requestMaterial: PromptMessage;
  readonly replyToId: string | undefined;
  readonly options: PromptOptions;
}

function buildThreadPrompt(ask: Ask, intent: 'answer' | 'continue'): BuiltTextPrompt {
  requireContent(ask, 'Please ask me something, or attach an image or video.');
  const base = referenceTextSettings('answer');
  const settings = { ...base, ...ask.options.text };
  const fitted = fitToBudget(
    ask.messages.filter((message) => !isEmptyMessage(message)),
    intent === 'answer' ? renderAnswerPrompt : renderContinuePrompt,
    {
      contextLength: ask.options.contextLength ?? emuContextLength,
      ...(ask.options.maxImages === undefined ? {} : { maxImages: ask.options.maxImages }),
      reserved: settings.maxNewTokens,
      counter: ask.options.counter,
      pinnedIds: new Set(ask.replyToId === undefined ? [] : [ask.replyToId]),
      dropLeadingAssistant: intent === 'answer',
    },
  );
  const video = intent === 'answer' && systemMessageFor(fitted.messages) === videoSystemMessage;
  const videoSettings = video ? { ...referenceTextSettings('video'), ...ask.options.text } : settings;
  return {
    kind: 'text',
    request: {
      model: intent === 'answer' ? 'instruct' : 'pretrain',
      prompt: fitted.prompt,
      images: collectImages(fitted.messages),
      settings: videoSettings,
    },
    answerPrefix: '',
    omission: fitted.omission,
    problems: ask.problems,
  };
}

/** The request's media; else the media of the message it replies to; else the newest media in the thread. */
function buildDescribePrompt(ask: Ask): BuiltTextPrompt {
  const withMedia = (message: PromptMessage | undefined) => message !== undefined && message.media.length > 0;
  const source = [
    ask.requestMaterial,
    ask.messages.find((message) => message.id === ask.replyToId),
    ask.messages.findLast((message) => message.media.length > 0),
  ].find(withMedia);
  if (source === undefined) {
    throw firstProblemOr(ask, 'Please attach an image or a video for me to describe.');
  }
  const settings = { ...referenceTextSettings('caption'), ...ask.options.text };
  const fitted = fitToBudget([{ ...source, text: '' }], renderDescribePrompt, {
    contextLength: ask.options.contextLength ?? emuContextLength,
    ...(ask.options.maxImages === undefined ? {} : { maxImages: ask.options.maxImages }),
    reserved: settings.maxNewTokens,
    counter: ask.options.counter,
    dropLeadingAssistant: false,
  });
  return {
    kind: 'text',
    request: { model: 'instruct', prompt: fitted.prompt, images: collectImages(fitted.messages), settings },
    answerPrefix: captionAnswerPrefix,
    omission: fitted.omission,
    problems: ask.problems,
  };
}

function buildImaginePrompt(ask: Ask): BuiltImagePrompt {
  requireContent(ask, 'Please tell me what to draw, or attach two to four images to blend.');
  const { media, text } = ask.requestMaterial;
  if (media.some((item) => item.kind !== 'image')) {
    throw new EmuBotError('REQUEST_UNSUPPORTED', 'image generation got a video or animation', {
      userMessage: 'I can draw from still images only, not videos or animations.',
    });
  }
  if (media.length > maximumImagesToDraw) {
    throw new EmuBotError('REQUEST_UNSUPPORTED', `image generation got ${media.length} images`, {
      userMessage: `I can draw from at most ${maximumImagesToDraw} images at once.`,
    });
  }
  const { prompt, kind } = renderImaginePrompt(media.length, text);
  const contextLength = ask.options.contextLength ?? emuContextLength;
  const positions = ask.options.counter.countTokens(prompt) + imageGenerationPositions;
  if (positions > contextLength) {
    throw new EmuBotError(
      'PROMPT_TOO_LONG',
      `the image-generation prompt needs ${positions} positions, more than the ${contextLength} there are`,
      { userMessage: 'That description is too long for me to draw from; please shorten it.' },
    );
  }
  const settings = { ...referenceImageSettings(ask.options.seed), ...ask.options.image };
  return {
    kind: 'image',
    request: { model: 'pretrain', prompt, images: collectImages([ask.requestMaterial]), settings },
    drawing: kind,
    omission: nothingOmitted,
    problems: ask.problems,
  };
}

function requireContent(ask: Ask, userMessage: string): void {
  if (isEmptyMessage(ask.requestMaterial)) throw firstProblemOr(ask, userMessage);
}

/** The request's own bad attachment says best what went wrong; else a polite request for content. */
function firstProblemOr(ask: Ask, userMessage: string): EmuBotError {
  const own = ask.problems.find((problem) => problem.messageId === ask.requestMaterial.id);
  return (
    own?.error ??
    new EmuBotError('REQUEST_UNSUPPORTED', 'the request has nothing to work on', { userMessage })
  );
}
