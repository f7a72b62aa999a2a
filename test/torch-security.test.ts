/**
 * tools/torch_interop.py on untrusted files: a .pt is a pickle, and unpickling
 * runs whatever the file names, so every .pt is read with
 * torch.load(weights_only=True) unless the user passes --trust-pickle; a
 * .safetensors file is checked before anything is read from it. Hostile files
 * (a pickle that opens or runs something, a whole pickled nn.Module) and
 * damaged ones each get one sentence and exit code 1, never a traceback and
 * never their code run; the files torch.save writes for a state dict, and the
 * file `to-torch` writes, still convert without the flag. Needs Debian's
 * python3-torch at /usr/bin/python3; skipped (with one line saying so) where
 * it is missing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const tool = fileURLToPath(new URL('../tools/torch_interop.py', import.meta.url));
const tools = fileURLToPath(new URL('../tools', import.meta.url));
const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const haveTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const skip = 'python3-torch is not installed (apt-get install python3-torch)';
if (!haveTorch) console.log(`# torch_interop.py security tests skipped: ${skip}`);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

let dir = '';

/** tools/torch_interop.py with these arguments, run in the test directory. */
function run(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(PYTHON, [tool, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

/** One plain sentence on stderr matching `message`, exit code 1, no Python traceback. */
function refused(r: Run, message: RegExp, what: string): void {
  assert.equal(r.status, 1, `${what}: exit code ${r.status}, stderr: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /Traceback/, what);
  assert.equal(r.stderr.trim().split('\n').length, 1, `${what}: ${r.stderr}`);
  assert.match(r.stderr, message, what);
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The sentence for a .pt that needs the full unpickler. */
const refusal = (file: string): RegExp =>
  new RegExp(
    `^${escape(file)} holds pickled Python objects, not just tensors( \\([\\w.]+\\))?, and unpickling them could run any code: ` +
      `save just the weights with torch\\.save\\(model\\.state_dict\\(\\), 'model\\.pt'\\), ` +
      'or pass --trust-pickle to load it anyway if you trust its author\\n$',
  );

/** The arguments after the file for each command that reads a .pt. */
const COMMANDS: [string, string[]][] = [
  ['from-torch', ['--vocab', 'vocab.json', '--out', 'out.safetensors']],
  ['state-dict', ['--vocab', 'vocab.json', '--out', 'sd-out.safetensors', '--vocab-out', 'vocab-out.json']],
  ['logits', ['--text', 'ab']],
];

/** Builds the .pt files: hostile pickles, a whole pickled CharModel, a state dict (zip and legacy format), a tensor claiming more bytes than stored. */
const MAKE = String.raw`
import os, pickle, sys, zipfile, json
import torch
sys.path.insert(0, sys.argv[1])
from torch_interop import CharModel

class OpenMarker:
    def __reduce__(self):
        return (open, (os.path.abspath('marker-open'), 'w'))

class SystemMarker:
    def __reduce__(self):
        return (os.system, ('touch ' + os.path.abspath('marker-system'),))

torch.save({'rnn.weight_ih_l0': torch.zeros(4, 4), 'opens': OpenMarker(), 'runs': SystemMarker()}, 'evil.pt')
with open('evil-plain.pkl', 'wb') as f:
    pickle.dump(SystemMarker(), f)

torch.manual_seed(0)
vocab = list('abcdef')
m = CharModel(len(vocab), 'gru', 1, 16, 8)
json.dump(vocab, open('vocab.json', 'w'))
m.vocab = vocab
torch.save(m, 'whole.pt')
del m.vocab
torch.save(m.state_dict(), 'state.pt')
torch.save(m.state_dict(), 'legacy.pt', _use_new_zipfile_serialization=False)
# a recur checkpoint with a float in its config (torch 1.13's weights-only unpickler reads no floats)
from torch_interop import save_recur
d = CharModel(len(vocab), 'lstm', 2, 8, 4, dropout=0.25)
save_recur(d, vocab, 'dropout.safetensors')

# a tensor of 4 floats whose storage claims 200: torch 1.13 would read past the record
torch.save({'w': torch.arange(4, dtype=torch.float32)}, 'small.pt')
z = zipfile.ZipFile('small.pt')
pkl = z.read('small/data.pkl')
assert pkl.count(b'K\x04') == 2, pkl
pkl = pkl.replace(b'K\x04', b'K\xc8')
with zipfile.ZipFile('overclaim.pt', 'w') as out:
    for i in z.infolist():
        out.writestr(i.filename, pkl if i.filename.endswith('data.pkl') else z.read(i.filename))
`;

/**
 * tools/torch_interop.py's main() on each argument list, in one Python process (torch takes seconds to
 * import): for each, the exit status and stderr the command line would give (SystemExit with a message
 * prints it and exits 1; any other exception prints a traceback).
 */
function runMany(argvs: string[][]): Run[] {
  const driver = String.raw`
import json, sys, traceback
sys.path.insert(0, sys.argv[1])
import torch_interop
out = []
for argv in json.loads(sys.argv[2]):
    try:
        torch_interop.main(argv)
        out.append({'status': 0, 'stderr': ''})
    except SystemExit as e:
        text = isinstance(e.code, str)
        out.append({'status': 1 if text else (e.code or 0), 'stderr': f'{e.code}\n' if text else ''})
    except BaseException:
        out.append({'status': 1, 'stderr': traceback.format_exc()})
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ['-c', driver, tools, JSON.stringify(argvs)], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as Run[]).map((x) => ({ ...x, stdout: '' }));
}

/** A safetensors file: the 8-byte header length (the real one unless given), the header, the data. */
function safetensors(header: object | string, data: Uint8Array = new Uint8Array(0), claimed?: bigint): Buffer {
  const head = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(claimed ?? BigInt(head.length));
  return Buffer.concat([len, head, data]);
}

describe('tools/torch_interop.py on untrusted files', { skip: !haveTorch && skip }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'recur-torch-security-'));
    const made = spawnSync(PYTHON, ['-c', MAKE, tools], { cwd: dir, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a pickle that would open a file and run a command is refused by from-torch, state-dict and logits, and neither happens', async () => {
    const runs = await Promise.all(COMMANDS.map(([cmd, rest]) => run(cmd, 'evil.pt', ...rest)));
    assert.ok(!existsSync(join(dir, 'marker-open')), 'open() was called while loading');
    assert.ok(!existsSync(join(dir, 'marker-system')), 'os.system() was called while loading');
    for (const [i, r] of runs.entries()) refused(r, refusal('evil.pt'), `${COMMANDS[i][0]} evil.pt`);
    assert.match(runs[0].stderr, /\((io|builtins|__builtin__)\.open\)/, 'the sentence names what the file wanted built');
    assert.ok(!existsSync(join(dir, 'out.safetensors')) && !existsSync(join(dir, 'sd-out.safetensors')), 'nothing was written');
  });

  it('a plain pickle (not torch.save) is not unpickled at all, not even with --trust-pickle', async () => {
    const r = await run('from-torch', 'evil-plain.pkl', '--vocab', 'vocab.json', '--out', 'out.safetensors', '--trust-pickle');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /\nevil-plain\.pkl is not a PyTorch file \(torch\.save writes a zip archive\)\n$/);
    assert.doesNotMatch(r.stderr, /Traceback/);
    assert.ok(!existsSync(join(dir, 'marker-system')), 'os.system() was called while loading');
  });

  it('a whole pickled CharModel is refused without --trust-pickle, and converts with it after a warning naming the file', async () => {
    const no = await run('from-torch', 'whole.pt', '--out', 'whole.safetensors');
    refused(no, refusal('whole.pt'), 'from-torch whole.pt');
    assert.match(no.stderr, /\(torch_interop\.CharModel\)/);
    assert.ok(!existsSync(join(dir, 'whole.safetensors')));

    const yes = await run('from-torch', 'whole.pt', '--out', 'whole.safetensors', '--trust-pickle');
    assert.equal(yes.status, 0, yes.stderr);
    assert.match(yes.stderr, /^warning: --trust-pickle: unpickling whole\.pt with the full unpickler, which runs any code the file carries\n$/);
    assert.match(yes.stdout, /wrote whole\.safetensors/);
    const info = spawnSync(process.execPath, [bin, 'info', 'whole.safetensors'], { cwd: dir, encoding: 'utf8' });
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /model: 1 x 16 GRU, embedding 8/);
    assert.match(info.stdout, /vocabulary: 6 characters/);
  });

  it('a state dict (zip and legacy format) and the files to-torch writes convert without the flag and load in recur', async () => {
    for (const [from, to] of [
      [fixture('interop_recur_lstm.safetensors'), 'to-torch.pt'],
      ['dropout.safetensors', 'to-torch-dropout.pt'],
    ]) {
      const tt = await run('to-torch', from, '--out', to);
      assert.equal(tt.status, 0, tt.stderr);
    }
    const conversions: [string, string[], RegExp][] = [
      ['state.pt', ['--vocab', 'vocab.json'], /model: 1 x 16 GRU, embedding 8/],
      ['legacy.pt', ['--vocab', 'vocab.json'], /model: 1 x 16 GRU, embedding 8/],
      ['to-torch.pt', [], /model: 2 x 24 LSTM, embedding 12/],
      ['to-torch-dropout.pt', [], /model: 2 x 8 LSTM, embedding 4/],
    ];
    for (const [file, vocab, model] of conversions) {
      const out = file.replace(/\.pt$/, '.safetensors');
      const r = await run('from-torch', file, ...vocab, '--out', out);
      assert.equal(r.status, 0, `${file}: ${r.stderr}`);
      assert.equal(r.stderr, '', `${file}: no warning without --trust-pickle`);
      const info = spawnSync(process.execPath, [bin, 'info', out], { cwd: dir, encoding: 'utf8' });
      assert.equal(info.status, 0, `${file}: ${info.stderr}`);
      assert.match(info.stdout, model, file);
    }
    const sd = await run('state-dict', 'to-torch.pt', '--out', 'tt-sd.safetensors', '--vocab-out', 'tt-vocab.json');
    assert.equal(sd.status, 0, sd.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, 'tt-vocab.json'), 'utf8')).length, 58);
    const logits = await run('logits', 'to-torch.pt', '--text', 'ROMEO:');
    assert.equal(logits.status, 0, logits.stderr);
    assert.match(logits.stdout, /^tensor\(/);
  });

  it('a missing, non-torch, truncated or over-claiming .pt: one sentence, exit 1', async () => {
    const state = readFileSync(join(dir, 'state.pt'));
    writeFileSync(join(dir, 'cut.pt'), state.subarray(0, state.length >> 1));
    writeFileSync(join(dir, 'text.pt'), 'just some text\n');
    const cases: [string, RegExp][] = [
      ['missing.pt', /^missing\.pt does not exist\n$/],
      ['text.pt', /^text\.pt is not a PyTorch file \(torch\.save writes a zip archive\)\n$/],
      ['cut.pt', /^cut\.pt is not a readable PyTorch file: its zip archive is damaged or truncated/],
      ['overclaim.pt', /^overclaim\.pt is not a readable PyTorch file: a tensor claims 800 bytes of storage 0 but the archive holds 16\n$/],
    ];
    const runs = await Promise.all(cases.map(([file]) => run('from-torch', file, '--vocab', 'vocab.json', '--out', 'out.safetensors')));
    for (const [i, [file, message]] of cases.entries()) refused(runs[i], message, file);
  });

  it('damaged safetensors: each is one sentence naming the file, exit 1, no traceback', async () => {
    const f32 = (shape: number[], offsets: number[]) => ({ dtype: 'F32', shape, data_offsets: offsets });
    const cases: [string, Buffer, RegExp][] = [
      [
        'longer-than-file',
        safetensors({ w: f32([2], [0, 8]) }, new Uint8Array(8), 1000n),
        /the header length \(1000 bytes\) is larger than the file \(\d+ bytes\)/,
      ],
      ['huge-header', safetensors({ w: f32([2], [0, 8]) }, new Uint8Array(8), 200_000_000n), /the header length \(200000000 bytes\) is over the 100 MB limit/],
      ['huge-header-2^64', safetensors({}, new Uint8Array(0), 2n ** 64n - 1n), /the header length \(18446744073709551615 bytes\) is over the 100 MB limit/],
      ['past-the-end', safetensors({ w: f32([4], [0, 16]) }, new Uint8Array(8)), /tensor "w" has data_offsets \[0, 16\] outside the 8 bytes of data/],
      ['begin-after-end', safetensors({ w: f32([0], [8, 0]) }, new Uint8Array(8)), /tensor "w" has data_offsets \[8, 0\] outside the 8 bytes of data/],
      ['overlapping', safetensors({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, new Uint8Array(12)), /the byte ranges of tensors "a" and "b" overlap/],
      ['negative-shape', safetensors({ w: f32([-2], [0, 8]) }, new Uint8Array(8)), /tensor "w" has a shape that is not a list of non-negative integers/],
      ['wrong-size', safetensors({ w: f32([3], [0, 8]) }, new Uint8Array(8)), /tensor "w" has 8 bytes of data but its shape \[3\] of F32 needs 12/],
      ['unknown-dtype', safetensors({ w: { dtype: 'F128', shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16)), /tensor "w" has an unknown dtype "F128"/],
      ['deep-json', safetensors('['.repeat(100000)), /the header is not valid JSON/],
      ['deep-valid-json', safetensors('{"a":'.repeat(100000) + '1' + '}'.repeat(100000)), /the header is not valid JSON/],
      ['not-an-object', safetensors([1, 2]), /the header is not a JSON object/],
      ['too-short', Buffer.from([1, 0, 0]), /it has 3 bytes, fewer than the 8 of the header length/],
    ];
    for (const [name, bytes] of cases) writeFileSync(join(dir, `${name}.safetensors`), bytes);
    const argv = (name: string): string[] => ['from-torch', `${name}.safetensors`, '--vocab', 'vocab.json', '--out', 'out.safetensors'];
    const expected = (name: string, message: RegExp): RegExp =>
      new RegExp(`^${escape(name)}\\.safetensors is not a valid safetensors file: ${message.source}\\n$`);
    // all of them through main() in one process, and two through the command line itself
    const runs = runMany(cases.map(([name]) => argv(name)));
    for (const [i, [name, , message]] of cases.entries()) refused(runs[i], expected(name, message), name);
    for (const [name, , message] of cases.filter(([name]) => name === 'deep-json' || name === 'overlapping')) {
      refused(await run(...argv(name)), expected(name, message), `${name} (command line)`);
    }
    assert.ok(!existsSync(join(dir, 'out.safetensors')), 'nothing was written');
  });
});
