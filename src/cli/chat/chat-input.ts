/** What one line typed into `emu-bot chat` asks for. */
export type ChatInput =
  | { readonly kind: 'message'; readonly text: string }
  | { readonly kind: 'attach'; readonly path: string; readonly as: 'image' | 'video' }
  | { readonly kind: 'imagine'; readonly prompt: string }
  | { readonly kind: 'help' }
  | { readonly kind: 'new-thread' }
  | { readonly kind: 'quit' }
  | { readonly kind: 'mistake'; readonly message: string };

export const chatHelp = `Talk to Emu as in a chat thread: every message is answered with the thread so far as context.
  /image PATH     attach an image or GIF (PNG, JPEG, WebP, GIF, ...) to your next message
  /video PATH     attach a video (MP4, WebM, MOV); Emu sees 8 frames of it
  /imagine TEXT   draw TEXT with the pretrained model (attached images are blended into it)
  /new            start a new thread (forget the history and attachments)
  /help           this help
  /quit           leave (or Ctrl-D); Ctrl-C stops an answer or drawing in progress
Press Enter on an empty line to have the attached images or video described.`;

/** Reads one line; paths may be quoted when they hold spaces. */
export function parseChatInput(line: string): ChatInput {
  const trimmed = line.trim();
  if (!trimmed.startsWith('/')) return { kind: 'message', text: trimmed };
  const [, name = '', rest = ''] = /^\/(\S*)\s*(.*)$/s.exec(trimmed) ?? [];
  const argument = rest.trim();
  switch (name.toLowerCase()) {
    case 'image':
    case 'video': {
      const path = unquote(argument);
      if (path === '')
        return { kind: 'mistake', message: `/${name} needs a file path, for example /${name} ./cat.jpg` };
      return { kind: 'attach', path, as: name.toLowerCase() === 'video' ? 'video' : 'image' };
    }
    case 'imagine':
      if (argument === '')
        return {
          kind: 'mistake',
          message: '/imagine needs something to draw, for example /imagine a green triangle',
        };
      return { kind: 'imagine', prompt: argument };
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'new':
    case 'reset':
      return { kind: 'new-thread' };
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    default:
      return { kind: 'mistake', message: `there is no /${name} command; /help lists them` };
  }
}

function unquote(text: string): string {
  const quoted = /^(["'])(.*)\1$/s.exec(text);
  return quoted === null ? text : (quoted[2] ?? '');
}
