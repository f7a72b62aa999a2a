/**
 * kill -9 while `recur train` writes checkpoints, again and again: the
 * checkpoint on disk is always a whole, readable file (the old one or the
 * new one), and a temporary file left by a killed run is removed by the next
 * run that writes there. A checkpoint is written at every step here, and it
 * is a few MB, so many kills land in the middle of a write.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, decodeCheckpoint } from '../src/index.js';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const shakespeare = readFileSync(fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url)), 'utf8');
const KILLS = 30;
let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'recur-kill-'));
  writeFileSync(join(dir, 't.txt'), shakespeare.slice(0, 3000));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const temps = (): string[] => readdirSync(dir).filter((n) => /^\.m\.st\.\d+\.tmp$/.test(n));
// 1 x 256 LSTM with Adam: a 3.6 MB checkpoint, written after every step
const args = [
  bin,
  'train',
  't.txt',
  '--layers',
  '1',
  '--hidden',
  '256',
  '--embed',
  '16',
  '--batch',
  '4',
  '--seq',
  '16',
  '--eval-every',
  '1',
  '--sample-every',
  '0',
  '--quiet',
  '--out',
  'm.st',
];

/** The checkpoint's size and time, to see a write to it begin. */
function stamp(): string {
  try {
    const st = statSync(join(dir, 'm.st'));
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return 'none';
  }
}

/** The checkpoint on disk, if any, loads; returns its step. */
function checkpointStep(): number {
  if (!existsSync(join(dir, 'm.st'))) return -1;
  return decodeCheckpoint(new Uint8Array(readFileSync(join(dir, 'm.st'))), "'m.st'").meta.progress.step;
}

describe('SIGKILL while writing checkpoints', () => {
  it(`${KILLS} kills at random points never leave an unreadable checkpoint, and the next run removes stray temporary files`, async (t) => {
    const rng = new Rng(2026);
    let midWrite = 0;
    let lastStep = -1;
    for (let i = 0; i < KILLS; i++) {
      const stale = temps();
      const child = spawn(process.execPath, [...args, ...(lastStep >= 0 ? ['--resume', 'm.st'] : []), '--steps', '100000'], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
      });
      // the banner comes after the output path is checked and old temporary files are cleared
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`run ${i} exited (${code}) before training: ${err}`)));
      });
      if (i % 2 === 0) {
        // every other run: wait for a write to begin (a new temporary file, or the checkpoint itself changing), then kill it mid-write
        const before = stamp();
        const t0 = Date.now();
        while (temps().every((n) => stale.includes(n)) && stamp() === before && Date.now() - t0 < 5000) await new Promise((resolve) => setTimeout(resolve, 1));
        await new Promise((resolve) => setTimeout(resolve, rng.uniform(0, 15)));
      } else {
        await new Promise((resolve) => setTimeout(resolve, rng.uniform(300, 900)));
      }
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      for (const name of stale) assert.ok(!temps().includes(name), `run ${i} left the stray ${name} of an earlier run`);
      if (temps().length > 0) midWrite++;
      const step = checkpointStep();
      assert.ok(step >= lastStep, `the checkpoint went back from step ${lastStep} to ${step}`);
      lastStep = step;
    }
    // a run to the end leaves the checkpoint and nothing else
    const r = spawnSync(process.execPath, [...args, ...(lastStep >= 0 ? ['--resume', 'm.st'] : []), '--steps', String(lastStep + 2)], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(temps(), []);
    assert.equal(checkpointStep(), lastStep + 2);
    t.diagnostic(`${KILLS} kills: ${midWrite} left a temporary file (killed mid-write), every checkpoint loaded; reached step ${lastStep}`);
    assert.ok(lastStep > 0, 'training made progress between kills');
  });
});
