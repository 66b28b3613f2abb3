import type { types } from '@slack/bolt';

/** Action ids of the bot's buttons and the callback ids of its modals and shortcut (the manifest names them too). */
export const actionIds = {
  cancel: 'emu_cancel',
  regenerate: 'emu_regenerate',
  variations: 'emu_variations',
  edit: 'emu_edit',
} as const;

export const callbackIds = {
  editModal: 'emu_edit_prompt',
  askShortcut: 'emu_ask_about_message',
} as const;

/** The block id of the prompt input in the edit modal. */
export const promptInput = { block: 'emu_prompt', action: 'emu_prompt_value' } as const;

type Blocks = (types.SectionBlock | types.ActionsBlock)[];

/** A status line with a cancel button, while a job waits or runs. */
export function statusBlocks(text: string, jobId: string): Blocks {
  return [
    { type: 'section', text: { type: 'mrkdwn', text } },
    {
      type: 'actions',
      block_id: 'emu-actions',
      elements: [button(actionIds.cancel, 'Cancel', jobId, 'danger')],
    },
  ];
}

/** The line above a drawn image, with its buttons. */
export function drawingBlocks(text: string, drawingId: string): Blocks {
  return [
    { type: 'section', text: { type: 'mrkdwn', text } },
    {
      type: 'actions',
      block_id: 'emu-actions',
      elements: [
        button(actionIds.regenerate, 'Regenerate', drawingId),
        button(actionIds.variations, 'Variations', drawingId),
        button(actionIds.edit, 'Edit prompt', drawingId),
      ],
    },
  ];
}

/** The modal that edits a drawing's prompt and draws again. */
export function editModal(drawingId: string, prompt: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: callbackIds.editModal,
    private_metadata: drawingId,
    title: { type: 'plain_text', text: 'Edit the prompt' },
    submit: { type: 'plain_text', text: 'Draw' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: promptInput.block,
        label: { type: 'plain_text', text: 'Prompt' },
        element: {
          type: 'plain_text_input',
          action_id: promptInput.action,
          multiline: true,
          initial_value: prompt.slice(0, 3000),
          max_length: 3000,
        },
      },
    ],
  };
}

function button(actionId: string, text: string, value: string, style?: 'danger' | 'primary'): types.Button {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text },
    value,
    ...(style === undefined ? {} : { style }),
  };
}
