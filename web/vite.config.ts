/**
 * The playground's build: `npm run web` serves it, `npm run build:web` writes
 * a static site to dist/web. Both send the two headers that make the page
 * cross-origin isolated, which SharedArrayBuffer (and so the wasm backend's
 * threads) needs; a static host must send the same ones (see README).
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
  worker: { format: 'es' },
  server: { headers: isolationHeaders, fs: { allow: ['..'] } },
  preview: { headers: isolationHeaders },
});
