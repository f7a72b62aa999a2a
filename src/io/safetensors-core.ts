/**
 * Reading safetensors into plain Float32Arrays, with no tensor imports: the
 * embeddable sampler (src/sampler/) reads checkpoints with this alone;
 * safetensors.ts wraps it into tensors. The format: an 8-byte little-endian
 * header length, a JSON header mapping each tensor name to { dtype, shape,
 * data_offsets } (plus an optional "__metadata__" object of strings), then
 * the raw little-endian data.
 */
import { formatShape, sizeOf } from '../tensor/shape.js';
import { parseJsonLimited } from './json-limits.js';

/** A safetensors file's `__metadata__`: string keys to string values (JSON-encode anything else). */
export type SafetensorsMetadata = Record<string, string>;

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Dimensions a tensor may have; recur's own tensors have at most 3. */
const MAX_RANK = 8;

function fail(msg: string): never {
  throw new Error(`readSafetensors: ${msg}`);
}

/** A tensor's entry in the header: its dtype, shape and byte range within the data section. */
export interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export interface SafetensorsHeader {
  /** Tensors by name, in the header's order; nothing is decoded yet. */
  entries: [string, SafetensorsEntry][];
  metadata: SafetensorsMetadata;
  /** Where the data section starts in the file. */
  dataStart: number;
}

/**
 * Parse and check the header without decoding any tensor. Everything a
 * hostile file could use to make a reader allocate is checked against the
 * file's size first: the header length (also capped, see MAX_JSON_BYTES),
 * the JSON nesting, each shape, and each byte range, which must lie in the
 * data section and not overlap another, so the decoded tensors together are
 * at most a few times the file's size.
 */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8) fail(`the data is ${bytes.length} bytes, too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const claimed = view.getBigUint64(0, true);
  if (claimed > BigInt(bytes.length - 8))
    fail(`the header claims ${claimed} bytes but the file has only ${bytes.length - 8} after the length; the file is truncated or not safetensors`);
  const len = Number(claimed);
  let header: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + len));
  } catch {
    fail('the header is not UTF-8 text; the file is corrupt or not safetensors');
  }
  try {
    header = parseJsonLimited(text, 'the header', len);
  } catch (e) {
    fail(`${(e as Error).message}; the file is corrupt or not safetensors`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + len;
  const dataLen = bytes.length - dataStart;
  const metadata: SafetensorsMetadata = {};
  const entries: [string, SafetensorsEntry][] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null) continue;
      if (typeof raw !== 'object' || Array.isArray(raw)) fail("the header's __metadata__ is not an object of strings");
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`metadata '${k}' is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = raw as SafetensorsEntry;
    if (
      !e ||
      typeof e !== 'object' ||
      typeof e.dtype !== 'string' ||
      !Array.isArray(e.shape) ||
      !Array.isArray(e.data_offsets) ||
      e.data_offsets.length !== 2
    ) {
      fail(`tensor '${name}' has no dtype, shape and data_offsets`);
    }
    const width = BYTES[e.dtype];
    if (!width) fail(`tensor '${name}' has dtype ${e.dtype}, which recur cannot read (use F32, F64, F16, BF16 or an integer type)`);
    if (e.shape.length > MAX_RANK || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has shape ${JSON.stringify(e.shape).slice(0, 80)}, which is not a list of at most ${MAX_RANK} whole numbers of 0 or more`);
    }
    const [begin, end] = e.data_offsets;
    if (!(Number.isSafeInteger(begin) && Number.isSafeInteger(end) && begin >= 0 && begin <= end && end <= dataLen)) {
      fail(`tensor '${name}' has data_offsets [${begin}, ${end}] outside the ${dataLen} bytes of data; the file is truncated or corrupt`);
    }
    // the byte count bounds the element count, so this product cannot be huge when it matches
    const need = sizeOf(e.shape) * width;
    if (end - begin !== need) {
      fail(`tensor '${name}' of shape ${formatShape(e.shape)} and dtype ${e.dtype} needs ${need} bytes but has ${end - begin}`);
    }
    entries.push([name, { dtype: e.dtype, shape: e.shape, data_offsets: [begin, end] }]);
  }
  const byStart = entries.filter(([, e]) => e.data_offsets[1] > e.data_offsets[0]).sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  for (let i = 1; i < byStart.length; i++) {
    if (byStart[i][1].data_offsets[0] < byStart[i - 1][1].data_offsets[1]) {
      fail(`tensors '${byStart[i - 1][0]}' and '${byStart[i][0]}' overlap in the data section; the file is corrupt`);
    }
  }
  return { entries, metadata, dataStart };
}

/** One tensor's values as float32 (every dtype is converted). */
export function decodeSafetensorsEntry(bytes: Uint8Array, e: SafetensorsEntry, start: number): Float32Array {
  const n = sizeOf(e.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start + e.data_offsets[0], e.data_offsets[1] - e.data_offsets[0]);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (e.dtype) {
      case 'F32':
        out[i] = view.getFloat32(i * 4, true);
        break;
      case 'F64':
        out[i] = view.getFloat64(i * 8, true);
        break;
      case 'F16':
        out[i] = halfToFloat(view.getUint16(i * 2, true));
        break;
      case 'BF16':
        out[i] = bf16ToFloat(view.getUint16(i * 2, true));
        break;
      case 'I64':
        out[i] = Number(view.getBigInt64(i * 8, true));
        break;
      case 'I32':
        out[i] = view.getInt32(i * 4, true);
        break;
      case 'I16':
        out[i] = view.getInt16(i * 2, true);
        break;
      case 'I8':
        out[i] = view.getInt8(i);
        break;
      default:
        out[i] = view.getUint8(i); // U8, BOOL
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function bf16ToFloat(b: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, b << 16);
  return buf.getFloat32(0);
}

/** A tensor as read from the file: its shape and its values converted to float32. */
export interface RawTensor {
  shape: number[];
  data: Float32Array;
}

/** Every tensor (as float32 values and a shape) and the metadata. */
export function readSafetensorsArrays(bytes: Uint8Array): { arrays: Record<string, RawTensor>; metadata: SafetensorsMetadata } {
  const { entries, metadata, dataStart } = readSafetensorsHeader(bytes);
  const arrays: Record<string, RawTensor> = {};
  for (const [name, e] of entries) arrays[name] = { shape: e.shape, data: decodeSafetensorsEntry(bytes, e, dataStart) };
  return { arrays, metadata };
}

/** Only the metadata (cheap: the data is not decoded). */
export function readSafetensorsMetadata(bytes: Uint8Array): SafetensorsMetadata {
  return readSafetensorsHeader(bytes).metadata;
}
