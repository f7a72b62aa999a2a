/** The `recur` command as a user runs it (the built bin, not the sources). */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint, defaultLMConfig, defaultTrainOptions, minTextLength } from '../src/index.js';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const shakespeare = fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url));
let dir = '';
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recur-cli-'));
  writeFileSync(join(dir, 'small.txt'), readFileSync(shakespeare, 'utf8').slice(0, 20000));
  writeFileSync(join(dir, 'empty.txt'), '');
  writeFileSync(join(dir, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]));
  writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** One plain sentence on stderr, the expected exit code, no stack trace. */
function fails(r: ReturnType<typeof run>, code: number, message: RegExp): void {
  assert.equal(r.status, code, `exit code ${r.status}, stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+/);
}

describe('recur CLI', () => {
  it('--help lists the commands; each command documents its options with defaults', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /train \[options\] <text-file>/);
    const t = run('train', '--help');
    assert.match(t.stdout, new RegExp(`--hidden <n>\\s+hidden units per layer \\(of a block model: its width\\)\\s+\\(default: ${defaultLMConfig.hidden}\\)`));
    assert.match(
      t.stdout,
      /--optimizer <name>\s+optimizer \(rmsprop: char-rnn's, with --rmsprop-decay\)\s+\(choices: "adam", "adagrad", "rmsprop", "sgd", default:\s+"adam"\)/,
    );
    assert.match(run('sample', '--help').stdout, /--temperature <t>\s+sampling temperature \(default: 0\.8\)/);
  });

  it('train -> info -> sample -> eval on a small text', () => {
    const t = run(
      'train',
      'small.txt',
      '--layers',
      '1',
      '--hidden',
      '32',
      '--embed',
      '16',
      '--batch',
      '8',
      '--seq',
      '32',
      '--steps',
      '30',
      '--eval-every',
      '15',
      '--sample-every',
      '0',
      '--out',
      'm.safetensors',
    );
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /step 15: val loss [\d.]+ nats\/char/);
    assert.match(t.stdout, /recur: done \(reached the steps limit\): 30 steps/);
    assert.ok(existsSync(join(dir, 'm.safetensors')));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary files left behind',
    );
    const i = run('info', 'm.safetensors');
    assert.equal(i.status, 0);
    assert.match(i.stdout, /model: 1 x 32 LSTM, embedding 16/);
    assert.match(i.stdout, /trained: 30 steps/);
    const s1 = run('sample', 'm.safetensors', '--prime', 'ROMEO:', '--length', '50', '--seed', '5');
    const s2 = run('sample', 'm.safetensors', '--prime', 'ROMEO:', '--length', '50', '--seed', '5');
    assert.equal(s1.status, 0, s1.stderr);
    assert.ok(s1.stdout.startsWith('ROMEO:'));
    assert.equal([...s1.stdout.trimEnd()].length >= 50, true);
    assert.equal(s1.stdout, s2.stdout, 'the same seed gives the same text');
    const e = run('eval', 'm.safetensors', 'small.txt');
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /loss [\d.]+ nats\/char, perplexity [\d.]+, [\d.]+ bits\/char over 20000 characters/);
    const r = run(
      'train',
      'small.txt',
      '--resume',
      'm.safetensors',
      '--layers',
      '1',
      '--hidden',
      '32',
      '--embed',
      '16',
      '--batch',
      '8',
      '--seq',
      '32',
      '--steps',
      '40',
      '--eval-every',
      '0',
      '--sample-every',
      '0',
      '--out',
      'm.safetensors',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /resuming 'm.safetensors' at step 30 with --eval-every 15 -> 0;/);
    assert.match(r.stdout, /40 steps/);
  });

  it('user errors: one sentence, exit code 1', () => {
    fails(run('train', 'missing.txt'), 1, /^recur: text file 'missing.txt' does not exist\n$/);
    fails(run('train', 'empty.txt'), 1, /'empty.txt' is empty/);
    fails(run('train', 'image.png'), 1, /'image.png' is not a text file/);
    fails(run('train', 'latin1.txt'), 1, /'latin1.txt' is not valid UTF-8 text/);
    fails(run('sample', 'missing.safetensors'), 1, /checkpoint 'missing.safetensors' does not exist/);
    fails(run('sample', 'small.txt'), 1, /'small.txt' is not a readable checkpoint/);
    fails(run('info', 'image.png'), 1, /'image.png' is not a readable checkpoint/);
    writeFileSync(join(dir, 'cut.safetensors'), readFileSync(join(dir, 'm.safetensors')).subarray(0, 3000));
    fails(run('info', 'cut.safetensors'), 1, /'cut.safetensors' is not a readable checkpoint: .*truncated/);
    fails(run('sample', 'm.safetensors', '--prime', 'ROMEO€'), 1, /the prime text has "€" \(U\+20AC\), which is not in the model's vocabulary/);
  });

  it('usage errors: exit code 2', () => {
    fails(run('frobnicate'), 2, /unknown command 'frobnicate'/);
    fails(run('train', 'small.txt', '--batch', '0'), 2, /option '--batch <n>' argument '0' is invalid\. expected a whole number of at least 1/);
    fails(run('train', 'small.txt', '--lr', 'fast'), 2, /'--lr <x>' argument 'fast' is invalid/);
    fails(run('train', 'small.txt', '--model', 'transformer'), 2, /Allowed choices are lstm, gru, rnn/);
    fails(run('sample', 'm.safetensors', '--top-p', '2'), 2, /'--top-p <p>' argument '2' is invalid/);
    fails(run('train', 'small.txt', '--epochs', '1', '--minutes', '1'), 2, /give either --epochs or --minutes, not both/);
  });

  it('a bad RECUR_THREADS is one sentence and exit 1, not a silent fallback to the slow backend', () => {
    const r = spawnSync(process.execPath, [bin, 'train', 'small.txt', '--steps', '1', '--quiet'], {
      encoding: 'utf8',
      cwd: dir,
      env: { ...process.env, RECUR_THREADS: 'abc' },
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), "recur: RECUR_THREADS must be a whole number of at least 1, got 'abc'");
  });

  // a small model, so these runs take a moment
  const quick = ['--layers', '1', '--hidden', '16', '--embed', '8', '--sample-every', '0', '--quiet'];

  it('periodic validation scores --eval-chars of the validation split, the final one all of it; the report says which', () => {
    const t = run(
      'train',
      'small.txt',
      ...quick,
      '--batch',
      '8',
      '--seq',
      '32',
      '--steps',
      '20',
      '--eval-every',
      '10',
      '--eval-chars',
      '500',
      '--out',
      'ev.safetensors',
    );
    assert.equal(t.status, 0, t.stderr);
    // small.txt has 20,000 characters: 2,000 of them are the validation split
    assert.match(t.stdout, /^step 10: val loss [\d.]+ nats\/char, perplexity [\d.]+, [\d.]+ bits\/char \(first 500 of 2,000 validation chars\)$/m);
    assert.match(t.stdout, /^step 20: val loss ([\d.]+) nats\/char, .* \(all 2,000 validation chars\)$/m);
    assert.match(t.stdout, /recur: done .* val loss [\d.]+ nats\/char \([\d.]+ bits\/char, perplexity [\d.]+; all 2,000 validation chars\)/);
    const finalLoss = /^step 20: val loss ([\d.]+)/m.exec(t.stdout)![1];
    assert.match(t.stdout, new RegExp(`done .* val loss ${finalLoss.replace('.', '\\.')} nats/char`));
    // the default, defined once in the library, is what the help shows
    assert.match(run('train', '--help').stdout, new RegExp(`--eval-chars <n>[\\s\\S]*?\\(default: ${defaultTrainOptions.evalChars}\\)`));
    assert.ok(
      readFileSync(new URL('../README.md', import.meta.url), 'utf8').includes(`[--eval-chars ${defaultTrainOptions.evalChars}]`),
      'the README synopsis shows the same default',
    );
    for (const bad of ['1', '-5', '2.5', 'many']) {
      fails(
        run('train', 'small.txt', '--eval-chars', bad),
        2,
        new RegExp(`option '--eval-chars <n>' argument '${bad}' is invalid\\. expected 0 or a whole number of at least 2`),
      );
    }
  });

  it("reads CRLF line ends as LF with a note (--keep-cr keeps them); a model with '\\r' in its vocabulary evaluates with --keep-cr", () => {
    const lines = readFileSync(join(dir, 'small.txt'), 'utf8').slice(0, 6000);
    const lfCount = lines.split('\n').length - 1;
    writeFileSync(join(dir, 'dos.txt'), '\ufeff' + lines.replace(/\n/g, '\r\n'));
    const note = "recur: 'dos.txt' has Windows line ends (CRLF); read as LF (--keep-cr keeps them)\n";
    const args = ['--batch', '4', '--seq', '16', '--steps', '2', '--eval-every', '0', ...quick];
    const lf = run('train', 'dos.txt', ...args, '--out', 'lf.safetensors');
    assert.equal(lf.status, 0, lf.stderr);
    assert.equal(lf.stderr, note);
    assert.match(lf.stdout, /\(6000 characters, vocabulary \d+\)/);
    const lfVocab = decodeCheckpoint(readFileSync(join(dir, 'lf.safetensors'))).vocab;
    assert.equal(lfVocab.has('\r'), false);
    const cr = run('train', 'dos.txt', ...args, '--keep-cr', '--out', 'cr.safetensors');
    assert.equal(cr.status, 0, cr.stderr);
    assert.equal(cr.stderr, '');
    assert.match(cr.stdout, new RegExp(`\\(${6000 + lfCount} characters, vocabulary ${lfVocab.size + 1}\\)`));
    assert.equal(decodeCheckpoint(readFileSync(join(dir, 'cr.safetensors'))).vocab.has('\r'), true);
    const e1 = run('eval', 'cr.safetensors', 'dos.txt', '--keep-cr');
    assert.equal(e1.status, 0, e1.stderr);
    assert.equal(e1.stderr, '');
    assert.match(e1.stdout, new RegExp(`over ${6000 + lfCount} characters\n$`));
    const e2 = run('eval', 'cr.safetensors', 'dos.txt');
    assert.equal(e2.stderr, note);
    assert.match(e2.stdout, /over 6000 characters\n$/);
    // lone CRs (old Mac files) too
    writeFileSync(join(dir, 'mac.txt'), lines.replace(/\n/g, '\r'));
    const mac = run('train', 'mac.txt', ...args, '--out', 'mac.safetensors');
    assert.equal(mac.status, 0, mac.stderr);
    assert.equal(mac.stderr, "recur: 'mac.txt' has carriage-return line ends (CR); read as LF (--keep-cr keeps them)\n");
    assert.match(run('train', '--help').stdout, /--keep-cr\s+keep '\\r'/);
    assert.match(run('eval', '--help').stdout, /--keep-cr\s+keep '\\r'/);
  });

  it('a text too short for --batch, --seq and --val-frac is one message with the exact minimum', () => {
    writeFileSync(join(dir, 'tiny.txt'), 'hello world');
    const need = minTextLength({ batch: 32, seq: 64, valFrac: 0.1 });
    const short = run('train', 'tiny.txt');
    fails(
      short,
      1,
      new RegExp(
        `^recur: 'tiny.txt' has 11 characters; batch 32 x seq 64 with val-frac 0.1 needs at least ${need.toLocaleString('en-US')}; use a longer text or a smaller --batch/--seq\n$`,
      ),
    );
    assert.equal(short.stdout, '', 'refused before the banner');
    const text = readFileSync(join(dir, 'small.txt'), 'utf8');
    writeFileSync(join(dir, 'just.txt'), text.slice(0, need));
    writeFileSync(join(dir, 'under.txt'), text.slice(0, need - 1));
    const ok = run('train', 'just.txt', ...quick, '--steps', '1', '--out', 'just.safetensors');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /recur: done \(reached the steps limit\): 1 steps/);
    fails(
      run('train', 'under.txt', ...quick, '--steps', '1'),
      1,
      new RegExp(`'under.txt' has ${(need - 1).toLocaleString('en-US')} characters; .* needs at least ${need.toLocaleString('en-US')};`),
    );
    fails(
      run('train', 'tiny.txt', '--batch', '1', '--seq', '1', '--val-frac', '0.05'),
      1,
      /'tiny.txt' has 11 characters; batch 1 x seq 1 with val-frac 0.05 needs at least 40; use a longer text or a larger --val-frac/,
    );
  });
});
