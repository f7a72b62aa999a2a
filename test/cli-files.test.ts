/**
 * Nothing lost, nothing misreported: the CLI's outputs, pipes, resumes and
 * option values under the mistakes users make (the built bin, as a user runs
 * it). Each case is one the project's issue lists.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultLMConfig, defaultTrainOptions, readSafetensorsMetadata } from '../src/index.js';
import { sampleDefaults } from '../src/generate/core.js';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const shakespeare = readFileSync(fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)), 'utf8');
let dir = '';
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
/** A tiny, fast model: 1 x 16 LSTM. */
const tiny = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq', '16', '--quiet'];
const metaOf = (file: string) => JSON.parse(readSafetensorsMetadata(new Uint8Array(readFileSync(join(dir, file)))).recur);

/** One plain sentence on stderr, the expected exit code, no stack trace, and no training started. */
function fails(r: ReturnType<typeof run>, code: number, message: RegExp): void {
  assert.equal(r.status, code, `exit code ${r.status}, stderr: ${r.stderr}`);
  assert.match(r.stderr, message);
  assert.equal(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('(run with --help')).length,
    1,
    r.stderr,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+|internal error|\bE[A-Z]{3,}\b/);
  assert.doesNotMatch(r.stdout, /training a/);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recur-files-'));
  writeFileSync(join(dir, 'v.txt'), shakespeare.slice(0, 20000));
  const t = run('train', 'v.txt', ...tiny, '--steps', '4', '--out', 'base.st');
  assert.equal(t.status, 0, t.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('--out is checked before any work', () => {
  it('refuses to write over the training text, which stays as it was', () => {
    fails(
      run('train', 'v.txt', ...tiny, '--steps', '2', '--out', 'v.txt'),
      2,
      /^recur: --out 'v\.txt' is the training text 'v\.txt'; writing there would destroy it, so give another file name\n$/,
    );
    assert.equal(readFileSync(join(dir, 'v.txt'), 'utf8'), shakespeare.slice(0, 20000));
    // also through another name for the same file
    symlinkSync('v.txt', join(dir, 'alias.txt'));
    fails(run('train', 'v.txt', ...tiny, '--steps', '2', '--out', 'alias.txt'), 2, /is the training text 'v\.txt'/);
    assert.equal(readFileSync(join(dir, 'v.txt'), 'utf8'), shakespeare.slice(0, 20000));
  });

  it('writes through a symlink to its target, so the link stays a link (a dangling one too)', () => {
    symlinkSync('target.st', join(dir, 'link.st'));
    const r = run('train', 'v.txt', ...tiny, '--steps', '2', '--out', 'link.st');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(join(dir, 'link.st')).isSymbolicLink());
    assert.equal(readlinkSync(join(dir, 'link.st')), 'target.st');
    assert.equal(metaOf('target.st').progress.step, 2);
    const again = run('train', 'v.txt', '--resume', 'link.st', '--steps', '4', '--out', 'link.st', '--quiet');
    assert.equal(again.status, 0, again.stderr);
    assert.ok(lstatSync(join(dir, 'link.st')).isSymbolicLink());
    assert.equal(metaOf('target.st').progress.step, 4);
  });

  it('refuses a directory, a device and a FIFO, which stay what they were', () => {
    mkdirSync(join(dir, 'adir'));
    fails(run('train', 'v.txt', ...tiny, '--out', 'adir'), 2, /^recur: --out 'adir' is a directory; give a file name\n$/);
    fails(
      run('train', 'v.txt', ...tiny, '--out', '/dev/null'),
      2,
      /^recur: --out '\/dev\/null' is not a regular file \(it is a device, pipe or socket\); give a file name\n$/,
    );
    assert.ok(statSync('/dev/null').isCharacterDevice());
    const fifo = join(dir, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status === 0) {
      fails(run('train', 'v.txt', ...tiny, '--out', 'fifo'), 2, /--out 'fifo' is not a regular file/);
      assert.ok(statSync(fifo).isFIFO());
    }
  });

  it('a path in a missing directory, or under a file, is a sentence in words before training', () => {
    fails(run('train', 'v.txt', ...tiny, '--out', 'nodir/m.st'), 1, /^recur: cannot write --out 'nodir\/m\.st': directory 'nodir' does not exist\n$/);
    fails(run('train', 'v.txt', ...tiny, '--out', 'v.txt/m.st'), 1, /^recur: cannot write --out 'v\.txt\/m\.st': 'v\.txt' is a file, not a directory\n$/);
  });

  it('a directory the user cannot write to is named (skipped as root, who can write anywhere)', (t) => {
    if (process.getuid?.() === 0) return t.skip('running as root');
    mkdirSync(join(dir, 'ro'), { mode: 0o555 });
    fails(run('train', 'v.txt', ...tiny, '--out', 'ro/m.st'), 1, /cannot write --out 'ro\/m\.st': no permission to write in directory 'ro'/);
  });

  it('a full disk keeps the previous checkpoint and says so (a 300 KiB tmpfs; skipped where mounting one is not allowed)', (t) => {
    const small = join(dir, 'small');
    mkdirSync(small);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=300k', 'tmpfs', small]).status !== 0) return t.skip('cannot mount a tmpfs here (needs root)');
    try {
      writeFileSync(join(small, 'v.txt'), shakespeare.slice(0, 20000));
      const first = spawnSync(process.execPath, [bin, 'train', 'v.txt', ...tiny, '--steps', '2', '--out', 'm.st'], { cwd: small, encoding: 'utf8' });
      assert.equal(first.status, 0, first.stderr);
      const before = readFileSync(join(small, 'm.st'));
      // a 1 x 128 model's checkpoint (about 700 KB) does not fit
      const big = spawnSync(process.execPath, [bin, 'train', 'v.txt', ...tiny, '--hidden', '128', '--steps', '2', '--out', 'm.st'], {
        cwd: small,
        encoding: 'utf8',
      });
      assert.equal(big.status, 1);
      assert.equal(big.stderr, "recur: cannot write 'm.st': the disk is full (the file as it was before, if any, is unchanged)\n");
      assert.deepEqual(readFileSync(join(small, 'm.st')), before);
      assert.deepEqual(readdirSync(small).sort(), ['m.st', 'v.txt']);
    } finally {
      spawnSync('umount', [small]);
    }
  });

  it('--resume m.st --out m.st still continues in place', () => {
    const r = run('train', 'v.txt', ...tiny, '--resume', 'base.st', '--steps', '6', '--out', 'base.st');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(metaOf('base.st').progress.step, 6);
  });

  it('the other commands check their outputs against their inputs too', () => {
    writeFileSync(join(dir, 's.csv'), 't,value\n' + Array.from({ length: 60 }, (_, i) => `${i},${Math.sin(i / 3)}`).join('\n') + '\n');
    const csv = readFileSync(join(dir, 's.csv'), 'utf8');
    fails(run('forecast', 's.csv', '--column', 'value', '--horizon', '2', '--out', 's.csv'), 2, /--out 's\.csv' is the CSV file 's\.csv'/);
    fails(run('forecast', 's.csv', '--column', 'value', '--horizon', '2', '--out', 'f.out', '--plot', 'f.out'), 2, /--out and --plot are both 'f\.out'/);
    assert.equal(readFileSync(join(dir, 's.csv'), 'utf8'), csv);
    fails(run('export', 'base.st', '--onnx', 'base.st'), 2, /--onnx 'base\.st' is the checkpoint 'base\.st'/);
    writeFileSync(join(dir, 'vocab.json'), '["a"]');
    fails(run('import-torch', 'base.st', '--vocab', 'vocab.json', '--out', 'vocab.json'), 2, /--out 'vocab\.json' is the vocabulary file 'vocab\.json'/);
  });
});

describe('pipes', () => {
  it('recur sample | head -c 20 ends quietly with exit 0', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" sample base.st --length 100000 --seed 1 | head -c 20`], {
      encoding: 'utf8',
      cwd: dir,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal([...r.stdout].length <= 20, true);
  });

  it('recur info | head -1 ends quietly too', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${bin}" info base.st | head -1`], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^model: 1 x 16 LSTM/);
  });

  it('recur train | head -2 keeps training after the reader leaves, and writes its checkpoint', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; "${process.execPath}" "${bin}" train v.txt ${tiny.join(' ')} --steps 60 --eval-every 5 --sample-every 5 --out piped.st | head -2`,
      ],
      { encoding: 'utf8', cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 2);
    assert.equal(metaOf('piped.st').progress.step, 60);
  });
});

describe("--resume trains the checkpoint's model and says so", () => {
  it('an architecture option that disagrees with the checkpoint is a usage error naming both', () => {
    fails(
      run('train', 'v.txt', '--resume', 'base.st', '--hidden', '64', '--out', 'r.st'),
      2,
      /^recur: --hidden 64 disagrees with the checkpoint 'base\.st', a 1 x 16 LSTM, embedding 8; a resumed model keeps its architecture \(leave --hidden out\)\n$/,
    );
    fails(
      run('train', 'v.txt', '--resume', 'base.st', '--layers', '2', '--out', 'r.st'),
      2,
      /--layers 2 disagrees with the checkpoint 'base\.st', a 1 x 16 LSTM/,
    );
    fails(
      run('train', 'v.txt', '--resume', 'base.st', '--model', 'gru', '--out', 'r.st'),
      2,
      /--model gru disagrees with the checkpoint 'base\.st', a 1 x 16 LSTM/,
    );
    fails(run('train', 'v.txt', '--resume', 'base.st', '--embed', '0', '--out', 'r.st'), 2, /--embed 0 disagrees/);
    fails(
      run('train', 'v.txt', '--resume', 'base.st', '--tokens', 'word', '--out', 'r.st'),
      2,
      /the checkpoint is a char-level model; resume it with --tokens char/,
    );
    fails(
      run('train', 'v.txt', '--resume', 'base.st', '--min-count', '3', '--out', 'r.st'),
      2,
      /a resumed model keeps its checkpoint's vocabulary \(leave --min-count out\)/,
    );
  });

  it("with no flags the banner describes the checkpoint's model and its options carry over; changed ones are listed", () => {
    const a = run('train', 'v.txt', ...tiny, '--steps', '3', '--lr', '0.01', '--clip', '1', '--out', 'opt.st');
    assert.equal(a.status, 0, a.stderr);
    const b = run('train', 'v.txt', '--resume', 'opt.st', '--steps', '5', '--out', 'opt.st');
    assert.equal(b.status, 0, b.stderr);
    assert.match(
      b.stdout,
      /^recur: training a char-level model, 1 x 16 LSTM, embedding 8, on 'v\.txt' \(20000 characters, vocabulary 58\), resuming 'opt\.st' at step 3; checkpoints go to 'opt\.st'\n/,
    );
    const o = metaOf('opt.st').options;
    assert.deepEqual([o.lr, o.clip, o.batch, o.seq], [0.01, 1, 4, 16], "the checkpoint's training options, not the CLI defaults");
    const c = run('train', 'v.txt', '--resume', 'opt.st', '--steps', '7', '--lr', '0.002', '--batch', '8', '--dropout', '0.3', '--out', 'opt.st', '--quiet');
    assert.equal(c.status, 0, c.stderr);
    assert.ok(c.stdout.includes(`resuming 'opt.st' at step 5 with --batch 4 -> 8, --lr 0.01 -> 0.002, --dropout ${defaultLMConfig.dropout} -> 0.3;`), c.stdout);
    const m = metaOf('opt.st');
    assert.equal(m.options.lr, 0.002);
    assert.equal(m.config.dropout, 0.3);
    assert.match(run('info', 'opt.st').stdout, /dropout 0\.3/);
  });

  it('a word model refuses to resume on a text it mostly does not know; eval says the share first', () => {
    writeFileSync(join(dir, 'w.txt'), shakespeare.slice(0, 60000));
    const t = run('train', 'w.txt', '--tokens', 'word', ...tiny, '--steps', '2', '--out', 'w.st');
    assert.equal(t.status, 0, t.stderr);
    let seed = 7;
    const letter = (): string => 'qxzjvkw'[(seed = (seed * 16807) % 2147483647) % 7];
    writeFileSync(join(dir, 'other.txt'), Array.from({ length: 2000 }, () => Array.from({ length: 6 }, letter).join('')).join(' '));
    fails(
      run('train', 'other.txt', '--resume', 'w.st', '--steps', '4', '--out', 'w2.st'),
      1,
      /^recur: 100% of the word tokens of 'other\.txt' are outside the checkpoint's vocabulary \(<unk>\), more than 20%; resume on the text the model was trained on, or train a new model on this one\n$/,
    );
    const e = run('eval', 'w.st', 'other.txt');
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /^note: 100% of the word tokens of 'other\.txt' are outside the model's vocabulary \(scored as <unk>\)\n/);
    const own = run('eval', 'base.st', 'v.txt');
    assert.doesNotMatch(own.stdout, /note:/, "no note when the text is the model's own");
  });
});

describe('signals and numbers', () => {
  it('Ctrl-C (SIGINT) stops after the step, writes the checkpoint and exits 130', async () => {
    const child = spawn(process.execPath, [bin, 'train', 'v.txt', ...tiny, '--minutes', '5', '--eval-every', '0', '--out', 'int.st'], { cwd: dir });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 130, out);
    assert.match(out, /done \(stopped on request\)/);
    assert.ok(metaOf('int.st').progress.step > 0);
  });

  it('whole-number options take scientific notation like --lr does, and say what they expected', () => {
    fails(run('train', 'v.txt', '--hidden', '1e9'), 2, /option '--hidden <n>' argument '1e9' is invalid\. expected a whole number from 1 to 65,536\./);
    fails(run('train', 'v.txt', '--batch', '2.5'), 2, /argument '2\.5' is invalid\. expected a whole number of at least 1; 2\.5 has a fraction\./);
    fails(run('train', 'v.txt', '--batch', 'many'), 2, /argument 'many' is invalid\. expected a whole number of at least 1, like 2\./);
    const r = run('train', 'v.txt', ...tiny, '--hidden', '1.6e1', '--steps', '1e0', '--lr', '1e-3', '--out', 'sci.st');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /training a char-level model, 1 x 16 LSTM/);
  });

  it('info rounds numbers for people', () => {
    const r = run('train', 'v.txt', ...tiny, '--batch', '32', '--seq', '32', '--steps', '40', '--lr', '0.0017', '--lr-decay', '0.87', '--out', 'decay.st');
    assert.equal(r.status, 0, r.stderr);
    const i = run('info', 'decay.st');
    const lr = /optimizer Adam \(lr ([\d.e-]+)\)/.exec(i.stdout)?.[1];
    assert.ok(lr && lr.replace(/^0\.0*/, '').length <= 4, `lr ${lr}`);
    assert.notEqual(Number(lr), 0.0017, 'the lr has decayed');
  });

  it('the defaults come from the library: the help shows defaultTrainOptions and defaultLMConfig', () => {
    const help = run('train', '--help').stdout.replace(/\s+/g, ' ');
    const T = defaultTrainOptions,
      M = defaultLMConfig;
    for (const [flag, v] of [
      ['--lr <x>', T.lr],
      ['--lr-decay <x>', T.lrDecay],
      ['--dropout <p>', M.dropout],
      ['--hidden <n>', M.hidden],
      ['--layers <n>', M.layers],
      ['--embed <n>', M.embed],
      ['--batch <n>', T.batch],
      ['--seq <n>', T.seq],
      ['--clip <x>', T.clip],
      ['--eval-every <n>', T.evalEvery],
    ] as const) {
      assert.match(help, new RegExp(`${flag.replace(/[<>]/g, '.')} (?:(?!--).)*\\(default: ${v}\\)`), flag);
    }
    assert.match(
      run('sample', '--help').stdout.replace(/\s+/g, ' '),
      new RegExp(`--temperature <t> sampling temperature \\(default: ${sampleDefaults.temperature}\\)`),
    );
  });

  it('help texts describe word models as well as characters', () => {
    assert.match(run('train', '--help').stdout, /train a language model on a UTF-8 text file, over characters \(default\)\s+or\s+words/);
    assert.match(run('sample', '--help').stdout, /most likely tokens \(characters\s+or\s+words\)/);
    assert.match(run('eval', '--help').stdout, /bits per character\s+\(or\s+word\)/);
  });
});

describe('recur forecast reads the CSV files spreadsheets write', () => {
  const rows = (sep: string, head: string): string =>
    head + '\n' + Array.from({ length: 60 }, (_, i) => `${i}${sep}${(Math.sin(i / 4) * 10).toFixed(3)}`).join('\n') + '\n';
  const go = (...a: string[]) => run('forecast', ...a, '--horizon', '3', '--steps', '20', '--quiet');

  it('semicolons and tabs are found on their own, or given with --sep', () => {
    writeFileSync(join(dir, 'semi.csv'), rows(';', 't;value'));
    const s = go('semi.csv', '--column', 'value', '--out', 'semi.out', '--plot', 'semi.svg');
    assert.equal(s.status, 0, s.stderr);
    assert.match(readFileSync(join(dir, 'semi.out'), 'utf8'), /^index,value_forecast\n60,/);
    writeFileSync(join(dir, 'tab.csv'), rows('\t', 't\tvalue'));
    assert.equal(go('tab.csv', '--column', 'value', '--out', 'tab.out', '--plot', 'tab.svg').status, 0);
    writeFileSync(join(dir, 'pipe.csv'), rows('|', 't|value'));
    fails(
      go('pipe.csv', '--column', 'value'),
      1,
      /has no column 'value'; its columns, separated by ',', are 't\|value' \(if its columns are separated by something else, give it with --sep\)/,
    );
    assert.equal(go('pipe.csv', '--column', 'value', '--sep', '|', '--out', 'pipe.out', '--plot', 'pipe.svg').status, 0);
  });

  it('an unnamed column is column_N, to choose and in the output', () => {
    writeFileSync(join(dir, 'noname.csv'), rows(',', 't,'));
    fails(go('noname.csv'), 1, /has 2 columns separated by ',' \(t, column_2\); choose one with --column/);
    const r = go('noname.csv', '--column', 'column_2', '--out', 'noname.out', '--plot', 'noname.svg');
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(join(dir, 'noname.out'), 'utf8'), /^index,column_2_forecast\n/);
    assert.ok(!existsSync(join(dir, '.noname.out.tmp')));
  });
});
