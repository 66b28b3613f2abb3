import { describe, expect, it } from 'vitest';
import { checkFeeds, type TensorSpec, tensor } from '../../../src/engine/onnx/session.js';

const inputs: TensorSpec[] = [
  { name: 'inputs_embeds', type: 'float32', shape: ['batch_size', 'sequence_length', 4] },
  { name: 'position_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] },
  { name: 'num_logits_to_keep', type: 'int64', shape: [] },
];

const good = () => ({
  inputs_embeds: tensor('float32', new Float32Array(2 * 3 * 4), [2, 3, 4]),
  position_ids: tensor('int64', new BigInt64Array(6), [2, 3]),
  num_logits_to_keep: tensor('int64', BigInt64Array.of(1n), []),
});

describe('checkFeeds', () => {
  it('accepts feeds that match', () => {
    expect(() => checkFeeds('decoder.onnx', inputs, good())).not.toThrow();
  });

  it('lists missing and unexpected inputs', () => {
    const { position_ids: _, ...rest } = good();
    expect(() =>
      checkFeeds('decoder.onnx', inputs, { ...rest, attention_mask: rest.num_logits_to_keep }),
    ).toThrow(
      "decoder.onnx: feeds do not match the graph's inputs: missing position_ids; unexpected attention_mask",
    );
  });

  it('rejects a wrong element type, rank or fixed size', () => {
    expect(() =>
      checkFeeds('decoder.onnx', inputs, {
        ...good(),
        position_ids: tensor('float32', new Float32Array(6), [2, 3]),
      }),
    ).toThrow('input position_ids must be int64, got float32');
    expect(() =>
      checkFeeds('decoder.onnx', inputs, {
        ...good(),
        num_logits_to_keep: tensor('int64', BigInt64Array.of(1n), [1]),
      }),
    ).toThrow('input num_logits_to_keep must have rank 0');
    expect(() =>
      checkFeeds('decoder.onnx', inputs, {
        ...good(),
        inputs_embeds: tensor('float32', new Float32Array(2 * 3 * 5), [2, 3, 5]),
      }),
    ).toThrow('input inputs_embeds axis 2 must be 4, got 5');
  });

  it('requires a symbolic size to agree across inputs', () => {
    expect(() =>
      checkFeeds('decoder.onnx', inputs, {
        ...good(),
        position_ids: tensor('int64', new BigInt64Array(4), [2, 2]),
      }),
    ).toThrow('sequence_length is 3 in inputs_embeds but 2 in position_ids');
  });
});
