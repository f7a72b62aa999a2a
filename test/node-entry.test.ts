/**
 * Importing the library is side-effect free for the host process: no V8
 * flags are set behind the application's back. With relaxed SIMD off (Node
 * 20's default) the wasm backend then runs its plain SIMD kernels; the
 * `recur` command turns the flag on for itself and runs the relaxed ones.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const probe = `
const r = await import('recur-rnn');
const b = r.getBackend();
console.log(JSON.stringify({ backend: b.name, variant: b.kernels?.variant ?? null }));
`;

describe('the Node entry point', () => {
  it("import 'recur-rnn' sets no V8 flags: without --experimental-wasm-relaxed-simd the plain SIMD kernels run", () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { backend: 'wasm', variant: 'simd' });
  });

  it('with the flag given by the host, the relaxed kernels run', () => {
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', probe], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { backend: 'wasm', variant: 'relaxed' });
  });
});
