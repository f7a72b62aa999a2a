#!/usr/bin/env node
// `npm run test:unit`: every test file but the slow ones (a real browser,
// subprocess-heavy CLI runs, training runs, Python), for a check in well under
// a minute while working. `npm test` runs them all. Extra arguments go to the
// test runner, e.g. `npm run test:unit -- --test-name-pattern=GRU`.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const SLOW = new Set([
  'web',
  'kill-faults',
  'torch-security',
  'examples',
  'package',
  'cli',
  'cli-files',
  'cli-tasks',
  'cli-lstm-options',
  'tasks',
  'checkpoint-faults',
  'interop',
  'onnx',
  'sampler',
  'untrusted-files',
  'node-entry',
]);
const files = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts') && !SLOW.has(f.slice(0, -'.test.ts'.length)))
  .map((f) => `test/${f}`);
const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--test', ...process.argv.slice(2), ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
