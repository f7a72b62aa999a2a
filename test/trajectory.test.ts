/**
 * A training trajectory checked against PyTorch (after llm.c): the same
 * initial weights, the same fixed batch, ten Adam steps with global-norm
 * clipping through recur's own trainStep, and each step's loss within 1e-4
 * (relative) of the loss PyTorch computed for that step. Golden values from
 * test/fixtures/make_trajectory_fixture.py. Runs on every backend, so the
 * fused wasm kernels and the js reference are both held to PyTorch.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Adam, decodeCheckpoint, setBackend, getBackend } from '../src/index.js';
import { createWasmBackend, trainStep } from '../src/internal.js';

const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url);
const want = JSON.parse(readFileSync(fixture('trajectory.json'), 'utf8'));

for (const backend of ['js', 'wasm'] as const) {
  describe(`the first ten training steps follow PyTorch's (${backend} backend)`, () => {
    for (const cell of ['lstm', 'gru'] as const) {
      it(`${cell}: Adam lr ${want.lr}, clip ${want.clip}, each step's loss within 1e-4 relative`, (t) => {
        const before = getBackend();
        setBackend(backend === 'wasm' ? createWasmBackend({ threads: 1 }) : 'js');
        try {
          const { model } = decodeCheckpoint(new Uint8Array(readFileSync(fixture(`trajectory_${cell}.safetensors`))));
          model.train();
          const opt = new Adam(model.parameters(), { lr: want.lr });
          const x = Int32Array.from(want.x),
            y = Int32Array.from(want.y);
          let worst = 0;
          want.losses[cell].forEach((expected: number, step: number) => {
            const prev = model.initialState(want.batch);
            const { loss, state } = trainStep(model, opt, x, y, want.batch, want.seq, prev, { clip: want.clip, clipValue: 0 });
            for (const s of [prev, state]) {
              s.h.dispose();
              s.c?.dispose();
            }
            const rel = Math.abs(loss - expected) / Math.abs(expected);
            worst = Math.max(worst, rel);
            assert.ok(rel <= 1e-4, `step ${step + 1}: recur ${loss}, PyTorch ${expected} (relative error ${rel.toExponential(2)})`);
          });
          t.diagnostic(`largest relative loss error over 10 steps: ${worst.toExponential(2)}`);
        } finally {
          setBackend(before);
        }
      });
    }
  });
}
