/** `recur` with the minGRU / minLSTM kinds and the block form, as a user runs it (the built bin). */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint, defaultLMConfig } from '../src/index.js';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const shakespeare = fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url));
let dir = '';
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recur-cli-min-'));
  writeFileSync(join(dir, 'small.txt'), readFileSync(shakespeare, 'utf8').slice(0, 20000));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** One plain sentence on stderr, the expected exit code, no stack trace. */
function fails(r: ReturnType<typeof run>, code: number, message: RegExp): void {
  assert.equal(r.status, code, `exit code ${r.status}, stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
  assert.doesNotMatch(r.stderr, /internal error/);
}

const small = ['--batch', '8', '--seq', '32', '--sample-every', '0'];

describe('recur with MinLSTM blocks and a plain MinGRU', () => {
  it('--help documents --blocks and the new cell kinds', () => {
    const t = run('train', '--help');
    assert.match(t.stdout, /--blocks\s+residual blocks instead of a plain stack/);
    assert.match(t.stdout, /"mingru", "minlstm"/);
  });

  it('train --model minlstm --blocks -> info -> sample -> eval -> resume', () => {
    const t = run(
      'train',
      'small.txt',
      '--model',
      'minlstm',
      '--blocks',
      '--layers',
      '2',
      '--hidden',
      '24',
      ...small,
      '--steps',
      '20',
      '--eval-every',
      '10',
      '--out',
      'b.st',
    );
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /^recur: training a char-level model, 2 blocks x 24 MinLSTM \(RMSNorm, GELU FFN 96\), on 'small\.txt'/);
    assert.match(t.stdout, /step 10: val loss [\d.]+ nats\/char/);
    assert.match(t.stdout, /recur: done \(reached the steps limit\): 20 steps/);
    const ck = decodeCheckpoint(readFileSync(join(dir, 'b.st')));
    assert.deepEqual(ck.model.config, {
      model: 'minlstm',
      layers: 2,
      hidden: 24,
      embed: 24,
      dropout: defaultLMConfig.dropout,
      blocks: true,
      vocabSize: ck.vocab.size,
    });

    const i = run('info', 'b.st');
    assert.equal(i.status, 0, i.stderr);
    assert.ok(i.stdout.startsWith(`model: 2 blocks x 24 MinLSTM (RMSNorm, GELU FFN 96), dropout ${defaultLMConfig.dropout}\n`), i.stdout);
    assert.match(i.stdout, new RegExp(`parameters: ${ck.model.numParameters().toLocaleString('en-US')}\\n`));
    assert.match(i.stdout, /trained: 20 steps/);

    const s1 = run('sample', 'b.st', '--prime', 'ROMEO:', '--length', '40', '--seed', '5', '--top-k', '10');
    const s2 = run('sample', 'b.st', '--prime', 'ROMEO:', '--length', '40', '--seed', '5', '--top-k', '10');
    assert.equal(s1.status, 0, s1.stderr);
    assert.ok(s1.stdout.startsWith('ROMEO:'));
    assert.equal([...s1.stdout.trimEnd()].length >= 40, true);
    assert.equal(s1.stdout, s2.stdout, 'the same seed gives the same text');
    assert.notEqual(run('sample', 'b.st', '--prime', 'ROMEO:', '--length', '40', '--seed', '6', '--top-k', '10').stdout, s1.stdout);

    const e = run('eval', 'b.st', 'small.txt');
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /loss [\d.]+ nats\/char, perplexity [\d.]+, [\d.]+ bits\/char over 20000 characters/);

    const r = run('train', 'small.txt', '--resume', 'b.st', '--steps', '25', '--eval-every', '0', ...small, '--out', 'b.st');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /resuming 'b\.st' at step 20/);
    assert.match(r.stdout, /recur: done \(reached the steps limit\): 25 steps/);
    assert.match(run('info', 'b.st').stdout, /^model: 2 blocks x 24 MinLSTM .*\n(.*\n){2}trained: 25 steps/);
  });

  it('a plain MinGRU: train -> info -> sample -> resume', () => {
    const t = run('train', 'small.txt', '--model', 'mingru', '--layers', '2', '--hidden', '16', '--embed', '8', ...small, '--steps', '6', '--out', 'g.st');
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /training a char-level model, 2 x 16 MinGRU, embedding 8, on/);
    assert.ok(run('info', 'g.st').stdout.startsWith(`model: 2 x 16 MinGRU, embedding 8, dropout ${defaultLMConfig.dropout}\n`));
    const s = run('sample', 'g.st', '--length', '30', '--seed', '1');
    assert.equal(s.status, 0, s.stderr);
    assert.equal(s.stdout, run('sample', 'g.st', '--length', '30', '--seed', '1').stdout);
    const r = run('train', 'small.txt', '--resume', 'g.st', '--steps', '8', ...small, '--out', 'g.st');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done \(reached the steps limit\): 8 steps/);
  });

  it('architecture flags that disagree are usage errors (exit 2), one sentence each', () => {
    fails(
      run('train', 'small.txt', '--blocks', '--hidden', '32', '--embed', '16', '--steps', '1'),
      2,
      /^recur: --embed 16 disagrees with --blocks, whose embedding is as wide as the model \(--hidden 32\); leave --embed out\n$/,
    );
    fails(
      run('train', 'small.txt', '--resume', 'g.st', '--blocks', '--steps', '9'),
      2,
      /^recur: --blocks disagrees with the checkpoint 'g\.st', a 2 x 16 MinGRU, embedding 8; a resumed model keeps its architecture \(leave --blocks out\)\n$/,
    );
    fails(
      run('train', 'small.txt', '--resume', 'b.st', '--hidden', '32', '--steps', '30'),
      2,
      /^recur: --hidden 32 disagrees with the checkpoint 'b\.st', a 2 blocks x 24 MinLSTM \(RMSNorm, GELU FFN 96\); a resumed model keeps its architecture \(leave --hidden out\)\n$/,
    );
  });
});
