/** `recur forecast` and word-level `recur train/sample/eval/info`, as a user runs them (the built bin). */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const shakespeare = fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url));
let dir = '';
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });

function fails(r: ReturnType<typeof run>, code: number, message: RegExp): void {
  assert.equal(r.status, code, `exit code ${r.status}, stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recur-cli-tasks-'));
  const rows = ['t,value'];
  for (let i = 0; i < 300; i++) {
    const t = i * 0.1;
    rows.push(`${t.toFixed(1)},${((t * Math.sin(t)) / 3 + 2 * Math.sin(5 * t) + 0.05 * Math.sin(37 * i)).toFixed(4)}`);
  }
  writeFileSync(join(dir, 'series.csv'), rows.join('\n') + '\n');
  writeFileSync(join(dir, 'one.csv'), 'sales\n' + Array.from({ length: 80 }, (_, i) => String(10 + Math.sin(i / 3))).join('\n') + '\n');
  writeFileSync(join(dir, 'empty.csv'), '');
  writeFileSync(join(dir, 'header.csv'), 'a,b\n');
  writeFileSync(join(dir, 'bad.csv'), 't,value\n0,1\n1,2\n2,abc\n');
  writeFileSync(join(dir, 'short.csv'), 'value\n1\n2\n3\n4\n');
  writeFileSync(join(dir, 'flat.csv'), 'level\n' + '5\n'.repeat(60));
  writeFileSync(join(dir, 'small.txt'), readFileSync(shakespeare, 'utf8').slice(0, 30000));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('recur forecast', () => {
  it('trains on a CSV column, reports the backtest against naive and linear, writes the forecast CSV and an SVG plot', () => {
    const r = run('forecast', 'series.csv', '--column', 'value', '--horizon', '5', '--steps', '150', '--out', 'f.csv', '--plot', 'f.svg');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /backtest on the last 5 values: MSE model [\d.e+-]+, naive \(last value\) [\d.e+-]+, linear fit [\d.e+-]+/);
    const lines = readFileSync(join(dir, 'f.csv'), 'utf8').trim().split('\n');
    assert.equal(lines[0], 'index,value_forecast');
    assert.equal(lines.length, 6);
    lines.slice(1).forEach((l, i) => {
      const [idx, v] = l.split(',');
      assert.equal(Number(idx), 300 + i);
      assert.ok(Number.isFinite(Number(v)));
    });
    const svg = readFileSync(join(dir, 'f.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(svg.match(/<polyline /g)?.length, 3);
    for (const label of ['history', 'fit (one step ahead)', 'forecast (5)']) assert.ok(svg.includes(`>${label}<`), label);
  });
  it('a single-column file needs no --column', () => {
    const r = run('forecast', 'one.csv', '--horizon', '3', '--steps', '20', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote the 3-step forecast to 'forecast\.csv' and the plot to 'forecast\.svg'/);
  });
  it('bad input: one sentence and exit code 1 (2 for usage errors)', () => {
    fails(run('forecast', 'missing.csv', '--horizon', '3'), 1, /^recur: CSV file 'missing.csv' does not exist\n$/);
    fails(run('forecast', 'empty.csv', '--horizon', '3'), 1, /'empty.csv' is empty: give a CSV file with a header row and numbers under it/);
    fails(run('forecast', 'header.csv', '--column', 'a', '--horizon', '3'), 1, /'header.csv' has a header row but no values under it/);
    fails(
      run('forecast', 'series.csv', '--column', 'price', '--horizon', '3'),
      1,
      /'series.csv' has no column 'price'; its columns, separated by ',', are 't', 'value' \(if its columns are separated by something else, give it with --sep\)/,
    );
    fails(run('forecast', 'series.csv', '--horizon', '3'), 1, /'series.csv' has 2 columns separated by ',' \(t, value\); choose one with --column/);
    fails(run('forecast', 'bad.csv', '--column', 'value', '--horizon', '1'), 1, /line 4 of 'bad.csv' has 'abc' in column 'value', which is not a number/);
    fails(
      run('forecast', 'short.csv', '--horizon', '2'),
      1,
      /column 'value' of 'short.csv' has 4 values; a forecast of 2 with a window of 20 needs at least 25/,
    );
    fails(run('forecast', 'flat.csv', '--horizon', '2'), 1, /column 'level' of 'flat.csv' is constant; there is nothing to learn/);
    fails(
      run('forecast', 'series.csv', '--column', 'value', '--horizon', '3', '--ar', '50'),
      1,
      /--ar 50 is more than the window of 20 values the model reads; give at most 20/,
    );
    fails(
      run('forecast', 'series.csv', '--column', 'value', '--horizon', '0'),
      2,
      /option '--horizon <n>' argument '0' is invalid\. expected a whole number of at least 1/,
    );
    fails(run('forecast', 'series.csv', '--column', 'value'), 2, /required option '--horizon <n>' not specified/);
  });
});

describe('word-level language models on the command line', () => {
  it('train --tokens word -> info -> sample -> eval; the checkpoint carries the tokenizer', () => {
    const t = run(
      'train',
      'small.txt',
      '--tokens',
      'word',
      '--min-count',
      '2',
      '--layers',
      '1',
      '--hidden',
      '32',
      '--embed',
      '16',
      '--batch',
      '8',
      '--seq',
      '16',
      '--steps',
      '20',
      '--eval-every',
      '10',
      '--sample-every',
      '0',
      '--out',
      'w.safetensors',
    );
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /word-level model, 1 x 32 LSTM, embedding 16, on 'small.txt' \(\d+ word tokens, vocabulary \d+/);
    assert.match(t.stdout, /step 10: val loss [\d.]+ nats\/word, perplexity [\d.]+/);
    const i = run('info', 'w.safetensors');
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stdout, /vocabulary: \d+ word tokens/);
    const s = run('sample', 'w.safetensors', '--prime', 'ROMEO:', '--length', '30', '--seed', '2');
    assert.equal(s.status, 0, s.stderr);
    assert.ok(s.stdout.startsWith('ROMEO:'));
    const words = s.stdout.slice(6).match(/[A-Za-z']+/g) ?? [];
    assert.ok(words.length >= 5, `few words in ${JSON.stringify(s.stdout)}`);
    assert.doesNotMatch(s.stdout, /<unk>|<join>/);
    const e = run('eval', 'w.safetensors', 'small.txt');
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /loss [\d.]+ nats\/word, perplexity [\d.]+, [\d.]+ bits\/word over \d+ word tokens/);
    fails(
      run('train', 'small.txt', '--resume', 'w.safetensors', '--tokens', 'char', '--steps', '21'),
      2,
      /the checkpoint is a word-level model; resume it with --tokens word/,
    );
    const u = run('sample', 'w.safetensors', '--prime', 'Zyzzyva', '--length', '3', '--seed', '1');
    assert.equal(u.status, 0, u.stderr);
    assert.match(u.stderr, /the model does not know "Zyzzyva"; read as <unk>/);
  });
});
