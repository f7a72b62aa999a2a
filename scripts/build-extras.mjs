// Build steps after tsc: files the compiled code needs next to it.
// - src/export/onnx-schema/ (ONNX's onnx.proto, read by the ONNX exporter at run time)
//   is copied to dist/src/export/onnx-schema/.
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'src/export/onnx-schema'), join(root, 'dist/src/export/onnx-schema'), { recursive: true });
