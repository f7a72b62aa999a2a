// Build steps after tsc:
// - src/export/onnx-schema/ (ONNX's onnx.proto, read by the ONNX exporter at run time)
//   is copied to dist/src/export/onnx-schema/.
// - src/sampler/index.ts is bundled with esbuild into one minified, dependency-free
//   ES module, dist/sampler/recur-sampler.js (package export `recur/sampler`). The
//   build fails if anything Node-specific or the WebAssembly backend got into it.
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'src/export/onnx-schema'), join(root, 'dist/src/export/onnx-schema'), { recursive: true });

const outfile = join(root, 'dist/sampler/recur-sampler.js');
const result = await build({
  entryPoints: [join(root, 'src/sampler/index.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'neutral', // no Node built-ins resolve: an accidental import fails the build
  target: 'es2020',
  minify: true,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const inputs = Object.keys(result.metafile.inputs);
const bad = inputs.filter((f) => /node_modules|backend\/wasm|^node:|src\/node/.test(f));
if (bad.length > 0) throw new Error(`the sampler bundle must stay small and portable, but it includes ${bad.join(', ')}`);
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.log(`build-extras: dist/sampler/recur-sampler.js ${(bytes / 1024).toFixed(1)} KiB minified, from ${inputs.length} modules`);
