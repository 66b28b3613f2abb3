export { type AddressClass, classifyAddress, isAddressAllowed } from './address-policy.js';
export type { DecodedMedia } from './decoded-media.js';
export { AttachmentDownloader, type DownloadOptions } from './download.js';
export { checkUrl, type FilePlatform, type HostPolicyOptions } from './host-policy.js';
export {
  type AttachmentToLoad,
  type FetchAttachment,
  loadAttachments,
  type MediaDecoder,
  type MediaOutcome,
} from './load-attachments.js';
export { createPixelsDecoder, emuImageSize } from './pixels-decoder.js';
export { Semaphore } from './semaphore.js';
