export { type DecodeOptions, EmuTokenizer, type EncodeOptions } from './emu-tokenizer.js';
export { isPythonWhitespace, pythonLeftStrip, pythonRightStrip, pythonStrip } from './python-whitespace.js';
export { StreamingDecoder, type StreamingDecoderOptions } from './streaming-decoder.js';
