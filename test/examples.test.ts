/** The classic examples run and learn (short runs of the same code the scripts run). */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { minCharRnn } from '../examples/min-char-rnn.js';
import { shakespeareLstm } from '../examples/shakespeare-lstm.js';

const shakespeare = readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8');

it("min-char-rnn: within 1,000 iterations the loss falls below what any unigram model can reach (0.9 x the text's character entropy)", (t) => {
  const text = shakespeare.slice(0, 100000);
  const reports: number[] = [];
  const { recentLoss } = minCharRnn({ text, iterations: 1000, report: (_n, l) => reports.push(l) });
  assert.equal(reports.length, 11); // every 100 iterations and at the end
  // the best a model that ignores context can do is the entropy of the character frequencies
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let entropy = 0;
  for (const n of counts.values()) entropy -= (n / text.length) * Math.log(n / text.length);
  t.diagnostic(`mean loss over the last 100 iterations ${recentLoss.toFixed(3)} nats/char; unigram entropy ${entropy.toFixed(3)}`);
  assert.ok(recentLoss < 0.9 * entropy, `loss ${recentLoss} vs unigram entropy ${entropy}`);
});

it('shakespeare-lstm: SGD with lr decay learns (validation loss below 2.9 nats/char after 2 epochs of a 20k-character excerpt) and samples every epoch', async () => {
  const logs: string[] = [];
  const res = await shakespeareLstm({ text: shakespeare.slice(0, 20000), epochs: 2, hidden: 64, log: (s) => logs.push(s) });
  assert.equal(logs.filter((l) => l.startsWith('epoch ')).length, 2);
  assert.match(logs[1], /learning rate now 0\.9801/);
  assert.ok(res.progress.lastValLoss! < 2.9, `val loss ${res.progress.lastValLoss}`);
});
