/**
 * safetensors: an 8-byte little-endian header length, a JSON header mapping
 * each tensor name to { dtype, shape, data_offsets } (plus an optional
 * "__metadata__" object of strings), then the raw little-endian data.
 * The format PyTorch (safetensors.torch.save_file) and Hugging Face use, so
 * weights move between recur and PyTorch. No Node imports: runs in browsers.
 */
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { readSafetensorsArrays, type SafetensorsMetadata } from './safetensors-core.js';

export { readSafetensorsMetadata, type SafetensorsMetadata } from './safetensors-core.js';

/** Tensors and metadata from safetensors bytes; every dtype is converted to float32. */
export function readSafetensorsWithMetadata(bytes: Uint8Array): {
  /** The tensors by name, in the file's order. */
  tensors: Record<string, Tensor>;
  /** The file's string metadata (empty if it has none). */
  metadata: SafetensorsMetadata;
} {
  const { arrays, metadata } = readSafetensorsArrays(bytes);
  const tensors: Record<string, Tensor> = {};
  for (const [name, a] of Object.entries(arrays)) tensors[name] = tensor(a.data, a.shape);
  return { tensors, metadata };
}

/**
 * The tensors in safetensors bytes, by name, as float32 (F32, F16, BF16, F64
 * and integer dtypes convert): weights saved by PyTorch's
 * `safetensors.torch.save_file`, or by `writeSafetensors`. A malformed or
 * hostile file is refused with one sentence, before any large allocation.
 *
 * @example
 * ```ts
 * const bytes = writeSafetensors({ w: randn([2, 3]) }, { note: 'made by recur' });
 * readSafetensors(bytes).w.shape; // [2, 3]
 * readSafetensorsMetadata(bytes); // { note: 'made by recur' }
 * ```
 */
export function readSafetensors(bytes: Uint8Array): Record<string, Tensor> {
  return readSafetensorsWithMetadata(bytes).tensors;
}

/** A tensor's values as the little-endian float32 bytes a safetensors file stores. */
export function float32Bytes(t: Tensor): Uint8Array {
  const d = t.data;
  const out = new Uint8Array(d.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < d.length; i++) view.setFloat32(i * 4, d[i], true);
  return out;
}

/** Serialise tensors as F32 (in insertion order), with optional string metadata. */
export function writeSafetensors(record: Record<string, Tensor>, metadata?: SafetensorsMetadata): Uint8Array {
  return writeSafetensorsF32(
    Object.entries(record).map(([name, t]) => [name, t.shape, float32Bytes(t)]),
    metadata,
  );
}

/** Serialise tensors already turned into F32 bytes (float32Bytes), in order, with optional string metadata. */
export function writeSafetensorsF32(tensors: [name: string, shape: readonly number[], bytes: Uint8Array][], metadata?: SafetensorsMetadata): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`writeSafetensors: metadata '${k}' must be a string (JSON-encode other values)`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, shape, bytes] of tensors) {
    if (name === '__metadata__') throw new Error("writeSafetensors: '__metadata__' cannot be a tensor name");
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // pad with spaces so the data starts 8-byte aligned, as the reference writer does
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const [, , bytes] of tensors) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}
