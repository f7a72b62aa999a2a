"""PyTorch peer for bench/index.ts: the same char-LSTM workloads as bench/workloads.ts,
trained the same way (Adam 2e-3, clip 5, stateful truncated BPTT at the workload's
batch x seq), printed as one JSON line per workload. Run by hand or by `npm run bench`:
    /usr/bin/python3 bench/peers/torch_charlm.py --workload W1 --threads 2
"""
import argparse, json, os, resource, statistics, sys, time

import torch
import torch.nn as nn

WORKLOADS = {
    'W1': dict(layers=1, hidden=128, embed=64, batch=32, seq=64, sample_chars=10000),
    'W2': dict(layers=2, hidden=512, embed=128, batch=32, seq=64, sample_chars=1000),
    'L1': dict(layers=1, hidden=256, embed=128, batch=8, seq=512, sample_chars=5000),
}


class CharLM(nn.Module):
    def __init__(self, V, w):
        super().__init__()
        self.embedding = nn.Embedding(V, w['embed'])
        self.rnn = nn.LSTM(w['embed'], w['hidden'], w['layers'], batch_first=True)
        self.head = nn.Linear(w['hidden'], V)

    def forward(self, x, state):
        y, state = self.rnn(self.embedding(x), state)
        return self.head(y), state


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--workload', default='W1')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    a = ap.parse_args()
    w = WORKLOADS[a.workload]
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    root = os.path.join(os.path.dirname(__file__), '..', '..')
    text = open(os.path.join(root, 'data', 'tinyshakespeare.txt'), encoding='utf-8').read()
    chars = sorted(set(text))
    idx = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([idx[c] for c in text], dtype=torch.long)
    B, T = w['batch'], w['seq']
    row = (len(ids) - 1) // B
    rows = ids[: B * row].view(B, row)
    targets = ids[1: B * row + 1].view(B, row)
    model = CharLM(len(chars), w)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    lossf = nn.CrossEntropyLoss()
    state = None
    times = []
    loss = None
    for i in range(a.warmup + a.steps):
        x = rows[:, i * T:(i + 1) * T]
        y = targets[:, i * T:(i + 1) * T]
        t0 = time.perf_counter()
        logits, state = model(x, state)
        loss = lossf(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        state = tuple(s.detach() for s in state)
        dt = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(dt)
    median = statistics.median(times)

    model.eval()
    n = w['sample_chars']
    with torch.no_grad():
        g = torch.Generator().manual_seed(1)
        st = None
        x = torch.tensor([[idx['\n']]])
        for _ in range(3 * min(n, 1000)):  # warm-up, as long as recur's
            logits, st = model(x, st)
        st = None
        t0 = time.perf_counter()
        for _ in range(n):
            logits, st = model(x, st)
            p = torch.softmax(logits[0, -1] / 0.8, dim=-1)
            x = torch.multinomial(p, 1, generator=g).view(1, 1)
        sample_s = time.perf_counter() - t0
    print(json.dumps({
        'workload': a.workload, 'model': 'lstm', 'peer': 'pytorch', 'backend': f'torch {torch.__version__}', 'threads': a.threads,
        'blas_threads': os.environ.get('OPENBLAS_NUM_THREADS', 'default'),
        'train_chars_per_s': round(B * T / median), 'train_step_ms': round(median * 1000, 2),
        'sample_chars_per_s': round(n / sample_s), 'last_loss': round(loss.item(), 4),
        'peak_rss_mb': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == '__main__':
    sys.exit(main())
