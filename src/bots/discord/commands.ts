import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord.js';

const { String: text, Integer: integer, Number: number, Attachment: file } = ApplicationCommandOptionType;

/** The context-menu command on messages. */
export const askEmuCommand = 'Ask Emu';

/** The commands `emu-bot register-commands` registers, as Discord's JSON. */
export const commandDefinitions = [
  {
    type: ApplicationCommandType.ChatInput,
    name: 'imagine',
    description: 'Draw images from a description (and an image to start from)',
    options: [
      { type: text, name: 'prompt', description: 'What to draw', required: true, max_length: 2000 },
      { type: file, name: 'image', description: 'An image to draw from' },
      { type: integer, name: 'count', description: 'How many images (1-4)', min_value: 1, max_value: 4 },
      {
        type: integer,
        name: 'seed',
        description: 'Noise seed, to draw the same again',
        min_value: 0,
        max_value: 2 ** 31 - 1,
      },
      {
        type: integer,
        name: 'steps',
        description: 'Denoising steps (more is slower and finer)',
        min_value: 1,
        max_value: 200,
      },
      {
        type: number,
        name: 'guidance',
        description: 'How closely to follow the prompt (1 turns guidance off)',
        min_value: 1,
        max_value: 30,
      },
    ],
  },
  {
    type: ApplicationCommandType.ChatInput,
    name: 'blend',
    description: 'Blend two to four images into a new one',
    options: [
      { type: file, name: 'image1', description: 'First image', required: true },
      { type: file, name: 'image2', description: 'Second image', required: true },
      { type: file, name: 'image3', description: 'Third image' },
      { type: file, name: 'image4', description: 'Fourth image' },
      { type: text, name: 'prompt', description: 'What to make of them', max_length: 2000 },
    ],
  },
  {
    type: ApplicationCommandType.ChatInput,
    name: 'describe',
    description: 'Describe an image or a video',
    options: [{ type: file, name: 'file', description: 'The image or video', required: true }],
  },
  {
    type: ApplicationCommandType.ChatInput,
    name: 'ask',
    description: 'Ask Emu a question, about a file if you like',
    options: [
      { type: text, name: 'question', description: 'Your question', required: true, max_length: 2000 },
      { type: file, name: 'file', description: 'An image or video to ask about' },
    ],
  },
  {
    type: ApplicationCommandType.ChatInput,
    name: 'queue',
    description: 'Your requests in line, the queue depth and the workers online',
  },
  { type: ApplicationCommandType.Message, name: askEmuCommand },
] as const;
