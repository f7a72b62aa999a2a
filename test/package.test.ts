/**
 * The package as users get it: `npm pack`, then the tarball installed into
 * an empty project with npm's offline cache (dist/ is what `npm test`'s build made) (no network), then the library
 * imported by its name and the `recur` command run from node_modules/.bin.
 * The package is `recur-rnn` (the name `recur` on the registry belongs to an
 * unrelated package); the command stays `recur`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir = '';
let tarball = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recur-pack-'));
  const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  tarball = join(dir, JSON.parse(out)[0].filename);
  // the empty project's lockfile: the tarball, and our lockfile's runtime dependencies (resolved and integrity-pinned),
  // so that `npm ci --offline` installs from npm's cache alone, as `npm ci` in this repository filled it
  const ours = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const me = ours.packages[''];
  const name = basename(tarball);
  const packages: Record<string, unknown> = {
    '': { name: 'empty-project', version: '1.0.0', dependencies: { 'recur-rnn': `file:${name}` } },
    'node_modules/recur-rnn': {
      version: me.version,
      resolved: `file:${name}`,
      license: me.license,
      dependencies: me.dependencies,
      bin: me.bin,
      engines: me.engines,
    },
  };
  for (const [k, v] of Object.entries(ours.packages as Record<string, { dev?: boolean; devOptional?: boolean }>)) {
    if (k.startsWith('node_modules/') && !v.dev && !v.devOptional) packages[k] = v;
  }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'empty-project', version: '1.0.0', type: 'module', private: true, dependencies: { 'recur-rnn': `file:${name}` } }),
  );
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'empty-project', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('npm pack', () => {
  it('installs offline from the tarball into an empty project; the library imports by name and `recur` runs', (t) => {
    const install = spawnSync(npm, ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, encoding: 'utf8' });
    assert.equal(install.status, 0, install.stderr);
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules/recur-rnn/package.json'), 'utf8'));
    assert.equal(pkg.name, 'recur-rnn');
    assert.deepEqual(pkg.bin, { recur: './bin/recur.js' });
    const lib = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      import { tensor, LanguageModel, CharTokenizer, sampleText } from 'recur-rnn';
      import { Sampler } from 'recur-rnn/sampler';
      const v = CharTokenizer.fromTexts('hello world');
      const m = new LanguageModel({ vocabSize: v.size, model: 'lstm', layers: 1, hidden: 8, embed: 4, dropout: 0 });
      console.log(tensor([1, 2]).add(tensor([3, 4])).toArray().join(','), sampleText(m, v, { length: 5, seed: 1 }).length, typeof Sampler);
    `,
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(lib.status, 0, lib.stderr);
    assert.equal(lib.stdout.trim(), '4,6 5 function');
    // the other entries: the machinery by its own name, and the browser build both by name and by the condition bundlers set
    const entries = `
      import * as root from 'recur-rnn';
      import { trainStep, createJsBackend } from 'recur-rnn/internal';
      import { useWebWorkerThreads, LanguageModel } from 'recur-rnn/browser';
      console.log(typeof trainStep, typeof createJsBackend, typeof useWebWorkerThreads, LanguageModel === root.LanguageModel, 'useWebWorkerThreads' in root);
    `;
    const plain = spawnSync(process.execPath, ['--input-type=module', '-e', entries], { cwd: dir, encoding: 'utf8' });
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout.trim(), 'function function function true false');
    const asBrowser = spawnSync(process.execPath, ['--conditions=browser', '--input-type=module', '-e', entries], { cwd: dir, encoding: 'utf8' });
    assert.equal(asBrowser.status, 0, asBrowser.stderr);
    assert.equal(asBrowser.stdout.trim(), 'function function function true true');
    // and each entry's types are where package.json says (the compiler resolves them as a user's project would)
    writeFileSync(
      join(dir, 'types.ts'),
      `import { LanguageModel, type LanguageModelConfig } from 'recur-rnn';
      import { threadsReady } from 'recur-rnn/browser';
      import { trainStep } from 'recur-rnn/internal';
      import { Sampler } from 'recur-rnn/sampler';
      const c: LanguageModelConfig = { vocabSize: 2, model: 'gru', layers: 1, hidden: 2, embed: 0, dropout: 0 };
      export const used = [new LanguageModel(c), threadsReady, trainStep, Sampler];\n`,
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const types = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', 'types.ts'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(types.status, 0, types.stdout + types.stderr);
    const bin = join(dir, 'node_modules/.bin/recur');
    const v = spawnSync(bin, ['--version'], { cwd: dir, encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    writeFileSync(join(dir, 't.txt'), readFileSync(join(root, 'data/tinyshakespeare.txt'), 'utf8').slice(0, 5000));
    const train = spawnSync(
      bin,
      ['train', 't.txt', '--layers', '1', '--hidden', '16', '--batch', '4', '--seq', '16', '--steps', '3', '--quiet', '--out', 'm.st'],
      { cwd: dir, encoding: 'utf8' },
    );
    assert.equal(train.status, 0, train.stderr);
    const sample = spawnSync(bin, ['sample', 'm.st', '--length', '20', '--seed', '1'], { cwd: dir, encoding: 'utf8' });
    assert.equal(sample.status, 0, sample.stderr);
    t.diagnostic(`tarball ${tarball.split('/').pop()}`);
  });
});
