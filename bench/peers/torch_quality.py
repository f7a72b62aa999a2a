"""PyTorch peer for bench/quality.ts: nn.LSTM trained like recur's default entry
for a fixed training time, scored like recur scores it. The same split (the
last --val-frac of the characters held out), the same batching (--batch rows,
each a contiguous stretch of the training text, read --seq at a time with the
state carried and reset each epoch), Adam with recur's schedules (the rate
times --lr-decay after each epoch, or --schedule cosine: half a cosine from
--lr to --lr-min over the training time; either after a linear --warmup over
the first steps, as src/train/schedule.ts), global-norm clipping, dropout between layers and
before the head (as recur's LanguageModel), and the validation loss over the
whole held-out split as stateful windows (recur's evaluateLoss). Evaluations
every --eval-seconds of training stop the clock. Prints a JSON line per
evaluation and a last line with the totals.
    /usr/bin/python3 bench/peers/torch_quality.py --data data/tinyshakespeare.txt --minutes 10
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn


class CharLM(nn.Module):
    def __init__(self, V, embed, hidden, layers, dropout):
        super().__init__()
        self.embedding = nn.Embedding(V, embed)
        self.rnn = nn.LSTM(embed, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, V)

    def forward(self, x, state):
        y, state = self.rnn(self.embedding(x), state)
        return self.head(self.drop(y)), state


def windows(ids, B, T):
    """recur's BpttBatcher: B rows of (n - 1) // B ids, floor(row / T) windows."""
    row = (len(ids) - 1) // B
    x = ids[: B * row].view(B, row)
    y = ids[1: B * row + 1].view(B, row)
    return x, y, row // T


def evaluate(model, ids, batch, T):
    B = max(1, min(batch, (len(ids) - 1) // T))
    T = min(T, len(ids) - 1)
    x, y, n = windows(ids, B, T)
    model.eval()
    total, state = 0.0, None
    with torch.no_grad():
        for w in range(n):
            logits, state = model(x[:, w * T:(w + 1) * T], state)
            total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[:, w * T:(w + 1) * T].reshape(-1), reduction='sum').item()
    model.train()
    return total / (n * B * T)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--minutes', type=float, default=10)
    ap.add_argument('--eval-seconds', type=float, default=30)
    ap.add_argument('--val-frac', type=float, default=0.1)
    ap.add_argument('--layers', type=int, default=2)
    ap.add_argument('--hidden', type=int, default=128)
    ap.add_argument('--embed', type=int, default=64)
    ap.add_argument('--dropout', type=float, default=0.1)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--seq', type=int, default=64)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--schedule', choices=['exponential', 'cosine'], default='exponential')
    ap.add_argument('--lr-decay', type=float, default=0.85)
    ap.add_argument('--lr-min', type=float, default=0)
    ap.add_argument('--warmup', type=int, default=0)
    ap.add_argument('--clip', type=float, default=5)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    text = open(a.data, encoding='utf-8').read()
    chars = sorted(set(text))
    idx = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([idx[c] for c in text], dtype=torch.long)
    n_val = math.floor(len(ids) * a.val_frac)
    train, val = ids[: len(ids) - n_val], ids[len(ids) - n_val:]
    B, T = a.batch, a.seq
    x, y, per_epoch = windows(train, B, T)
    model = CharLM(len(chars), a.embed, a.hidden, a.layers, a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    lossf = nn.CrossEntropyLoss()
    trained, next_eval, steps, epoch, w, state = 0.0, a.eval_seconds, 0, 0, 0, None
    limit = a.minutes * 60
    def rate():
        # recur's learningRate: a closed form of the step, the epoch and the training time
        warm = min(1.0, (steps + 1) / a.warmup) if a.warmup > 0 else 1.0
        if a.schedule == 'exponential':
            return warm * a.lr * a.lr_decay ** epoch
        f = min(1.0, trained / limit)
        return warm * (a.lr_min + (a.lr - a.lr_min) * 0.5 * (1 + math.cos(math.pi * f)))

    while trained < limit:
        if w == per_epoch:
            w, epoch, state = 0, epoch + 1, None
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g['lr'] = rate()
        logits, state = model(x[:, w * T:(w + 1) * T], state)
        loss = lossf(logits.reshape(-1, len(chars)), y[:, w * T:(w + 1) * T].reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        state = tuple(s.detach() for s in state)
        trained += time.perf_counter() - t0
        steps += 1
        w += 1
        if trained >= next_eval and trained < limit:
            next_eval += a.eval_seconds
            print(json.dumps({'seconds': round(trained, 2), 'val_loss': evaluate(model, val, B, T)}), flush=True)
    final = evaluate(model, val, B, T)
    print(json.dumps({'seconds': round(trained, 2), 'val_loss': final}))
    print(json.dumps({'steps': steps, 'epochs': epoch, 'chars_per_s': round(steps * B * T / trained), 'threads': a.threads, 'torch': torch.__version__}))


if __name__ == '__main__':
    sys.exit(main())
