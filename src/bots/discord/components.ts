import {
  type APIModalInteractionResponseCallbackData,
  ButtonStyle,
  ComponentType,
  TextInputStyle,
} from 'discord.js';

/**
 * Buttons and the edit modal, as Discord's JSON. Their custom ids carry all they need (the job
 * or drawing id, the person), so they keep working after a restart:
 * `emu:cancel:job:<jobId>:<userId>`, `emu:cancel:draw:<drawingId>`, `emu:again:<drawingId>`,
 * `emu:vary:<drawingId>:<index>`, `emu:edit:<drawingId>`, and the modal `emu:edited:<drawingId>`.
 */
export type ButtonAction =
  | { readonly kind: 'cancel-job'; readonly jobId: string; readonly userId: string }
  | { readonly kind: 'cancel-drawing'; readonly drawingId: string }
  | { readonly kind: 'again'; readonly drawingId: string }
  | { readonly kind: 'vary'; readonly drawingId: string; readonly index: number }
  | { readonly kind: 'edit'; readonly drawingId: string }
  | { readonly kind: 'edited'; readonly drawingId: string };

export const promptField = 'prompt';

export function parseCustomId(customId: string): ButtonAction | undefined {
  const [prefix, action, first, second, third] = customId.split(':');
  if (prefix !== 'emu' || first === undefined) return undefined;
  if (action === 'cancel' && first === 'job' && second !== undefined && third !== undefined)
    return { kind: 'cancel-job', jobId: second, userId: third };
  if (action === 'cancel' && first === 'draw' && second !== undefined)
    return { kind: 'cancel-drawing', drawingId: second };
  if (action === 'again') return { kind: 'again', drawingId: first };
  if (action === 'vary' && second !== undefined)
    return { kind: 'vary', drawingId: first, index: Number(second) };
  if (action === 'edit') return { kind: 'edit', drawingId: first };
  if (action === 'edited') return { kind: 'edited', drawingId: first };
  return undefined;
}

const button = (customId: string, label: string, style = ButtonStyle.Secondary) => ({
  type: ComponentType.Button,
  custom_id: customId,
  label,
  style,
});

const row = (components: unknown[]) => ({ type: ComponentType.ActionRow, components });

/** The cancel button on a waiting message. */
export function cancelRow(target: { jobId: string; userId: string } | { drawingId: string }): unknown[] {
  const id =
    'drawingId' in target
      ? `emu:cancel:draw:${target.drawingId}`
      : `emu:cancel:job:${target.jobId}:${target.userId}`;
  return [row([button(id, 'Cancel', ButtonStyle.Danger)])];
}

/** Regenerate, a variation of each posted image (by its place among the message's attachments), and edit. */
export function drawingRows(drawingId: string, imageCount: number): unknown[] {
  const variations = Array.from({ length: imageCount }, (_, index) =>
    button(`emu:vary:${drawingId}:${index}`, `V${index + 1}`),
  );
  return [
    row([
      button(`emu:again:${drawingId}`, '🔁 Regenerate', ButtonStyle.Primary),
      button(`emu:edit:${drawingId}`, '✏️ Edit prompt'),
    ]),
    ...(variations.length === 0 ? [] : [row(variations)]),
  ];
}

/** The modal that edits a drawing's prompt before drawing it again. */
export function editModal(drawingId: string, prompt: string): APIModalInteractionResponseCallbackData {
  return {
    custom_id: `emu:edited:${drawingId}`,
    title: 'Edit the prompt',
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: promptField,
            label: 'Prompt',
            style: TextInputStyle.Paragraph,
            value: prompt.slice(0, 4000),
            required: false,
            max_length: 4000,
          },
        ],
      },
    ],
  };
}
