export { type AuditEntry, AuditLog, type AuditLogOptions, type AuditOutcome } from './audit-log.js';
export {
  type BudgetOptions,
  type FittedPrompt,
  fitToBudget,
  nothingOmitted,
  type Omission,
  type TokenCounter,
} from './budget.js';
export {
  type BuiltImagePrompt,
  type BuiltPrompt,
  type BuiltTextPrompt,
  buildPrompt,
  type PromptOptions,
} from './build-prompt.js';
export {
  type Attachment,
  type AttachmentKind,
  type Author,
  type AuthorRole,
  type Channel,
  type ChatMessage,
  type Conversation,
  defaultIntent,
  type Intent,
  type Platform,
  requestMessage,
} from './conversation.js';
export { loadConversationMedia, mediaAttachments, type PlatformFileFetcher } from './load-media.js';
export { type ImageRule, type ModerationRules, Moderator } from './moderation.js';
export { type AttachmentProblem, type PromptMessage, toPromptMaterial } from './prompt-message.js';
export { type DrawingKind, renderImaginePrompt } from './render.js';
export {
  type FlaggedImagePolicy,
  type ImageBlurrer,
  type ImageReply,
  imageReply,
  type ReplyImage,
} from './reply/image-reply.js';
export { omissionNote, problemNotes } from './reply/notes.js';
export { splitText } from './reply/split-text.js';
export { emuContextLength, referenceImageSettings, referenceTextSettings } from './settings.js';
export { escapeText, imagePlaceholder, specialTokenStrings } from './special-tokens.js';
export {
  captionAnswerPrefix,
  captionQuestion,
  imageSystemMessage,
  multiImageSystemMessage,
  videoSystemMessage,
} from './templates.js';
