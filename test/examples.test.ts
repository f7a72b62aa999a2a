/** The classic examples run and learn (short runs of the same code the scripts run). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { minCharRnn } from '../examples/min-char-rnn.js';
import { shakespeareLstm } from '../examples/shakespeare-lstm.js';

const shakespeare = readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8');

it('min-char-rnn: the smoothed loss falls well below its start, -ln(1/V)*25, within 1,000 iterations', () => {
  const reports: number[] = [];
  const { startLoss, smoothLoss } = minCharRnn({ text: shakespeare.slice(0, 100000), iterations: 1000, report: (_n, l) => reports.push(l) });
  assert.equal(reports.length, 11); // every 100 iterations and at the end
  assert.ok(smoothLoss < 0.9 * startLoss, `smoothed loss ${smoothLoss} vs start ${startLoss}`);
});

it('shakespeare-lstm: SGD with lr decay learns (validation loss below 2.9 nats/char after 2 epochs of a 20k-character excerpt) and samples every epoch', async () => {
  const logs: string[] = [];
  const res = await shakespeareLstm({ text: shakespeare.slice(0, 20000), epochs: 2, hidden: 64, log: (s) => logs.push(s) });
  assert.equal(logs.filter((l) => l.startsWith('epoch ')).length, 2);
  assert.match(logs[1], /learning rate now 0\.9801/);
  assert.ok(res.progress.lastValLoss! < 2.9, `val loss ${res.progress.lastValLoss}`);
});
