/** The `recur` command as a user runs it (the built bin, not the sources). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/recur.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

it('recur --help prints usage and exits 0', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: recur <command>/);
});

it('an unknown command is one plain sentence on stderr and exit code 2, no stack trace', () => {
  const r = run('frobnicate');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /'frobnicate' is not a command/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
});
