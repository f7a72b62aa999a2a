/**
 * Reading safetensors into plain Float32Arrays, with no tensor imports: the
 * embeddable sampler (src/sampler/) reads checkpoints with this alone;
 * safetensors.ts wraps it into tensors. The format: an 8-byte little-endian
 * header length, a JSON header mapping each tensor name to { dtype, shape,
 * data_offsets } (plus an optional "__metadata__" object of strings), then
 * the raw little-endian data.
 */
import { formatShape, sizeOf } from '../tensor/shape.js';

export type SafetensorsMetadata = Record<string, string>;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function fail(msg: string): never {
  throw new Error(`readSafetensors: ${msg}`);
}

/** Parse the header; returns the entries, the metadata and where the data starts. */
function parseHeader(bytes: Uint8Array): { entries: [string, HeaderEntry][]; metadata: SafetensorsMetadata; dataStart: number } {
  if (bytes.length < 8) fail(`the data is ${bytes.length} bytes, too short to be a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = Number(view.getBigUint64(0, true));
  if (len > bytes.length - 8) fail(`the header claims ${len} bytes but the file has only ${bytes.length - 8} after the length; the file is truncated or not safetensors`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + len)));
  } catch {
    fail('the header is not valid JSON; the file is corrupt or not safetensors');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + len;
  const dataLen = bytes.length - dataStart;
  const metadata: SafetensorsMetadata = {};
  const entries: [string, HeaderEntry][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`metadata '${k}' is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = raw as HeaderEntry;
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
      fail(`tensor '${name}' has no dtype, shape and data_offsets`);
    }
    const width = BYTES[e.dtype];
    if (!width) fail(`tensor '${name}' has dtype ${e.dtype}, which recur cannot read (use F32, F64, F16, BF16 or an integer type)`);
    const [begin, end] = e.data_offsets;
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && begin <= end && end <= dataLen)) {
      fail(`tensor '${name}' has data_offsets [${begin}, ${end}] outside the ${dataLen} bytes of data; the file is truncated or corrupt`);
    }
    if ((end - begin) !== sizeOf(e.shape) * width) {
      fail(`tensor '${name}' of shape ${formatShape(e.shape)} and dtype ${e.dtype} needs ${sizeOf(e.shape) * width} bytes but has ${end - begin}`);
    }
    entries.push([name, e]);
  }
  return { entries, metadata, dataStart };
}

function decode(bytes: Uint8Array, e: HeaderEntry, start: number): Float32Array {
  const n = sizeOf(e.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start + e.data_offsets[0], e.data_offsets[1] - e.data_offsets[0]);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (e.dtype) {
      case 'F32': out[i] = view.getFloat32(i * 4, true); break;
      case 'F64': out[i] = view.getFloat64(i * 8, true); break;
      case 'F16': out[i] = halfToFloat(view.getUint16(i * 2, true)); break;
      case 'BF16': out[i] = bf16ToFloat(view.getUint16(i * 2, true)); break;
      case 'I64': out[i] = Number(view.getBigInt64(i * 8, true)); break;
      case 'I32': out[i] = view.getInt32(i * 4, true); break;
      case 'I16': out[i] = view.getInt16(i * 2, true); break;
      case 'I8': out[i] = view.getInt8(i); break;
      default: out[i] = view.getUint8(i); // U8, BOOL
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
  const { entries, metadata, dataStart } = parseHeader(bytes);
  const arrays: Record<string, RawTensor> = {};
  for (const [name, e] of entries) arrays[name] = { shape: e.shape, data: decode(bytes, e, dataStart) };
  return { arrays, metadata };
}

/** Only the metadata (cheap: the data is not decoded). */
export function readSafetensorsMetadata(bytes: Uint8Array): SafetensorsMetadata {
  return parseHeader(bytes).metadata;
}
