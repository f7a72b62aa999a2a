#!/usr/bin/env python3
"""char-rnn-tensorflow's set-up (examples/char-rnn-tf.ts) in PyTorch: the peer
that tells whether a gap between recur and the slides' log is recur's or the
set-up's. 2 x 128 LSTM, embedding 128, batches of 50 x 50 (rows are
contiguous streams, the state carried and reset each epoch), Adam 0.002,
global-norm clip 5, TensorFlow's Glorot-uniform initialisation with the
forget-gate bias 1 (here the initial value of a trainable bias; TensorFlow
adds a constant). Prints the training loss of the last 7 batches.

    python3 tools/char_rnn_tf_torch.py [--epochs 2] [--seed 1] [--data data/tinyshakespeare.txt]
"""
import argparse
import math
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def tensorflow_init(m: torch.nn.Module, hidden: int, embed: int, vocab: int) -> None:
    with torch.no_grad():
        for layer in range(m.rnn.num_layers):
            inputs = embed if layer == 0 else hidden
            a = math.sqrt(6 / (inputs + hidden + 4 * hidden))  # TF's kernel is one [in + H, 4H] matrix
            getattr(m.rnn, f"weight_ih_l{layer}").uniform_(-a, a)
            getattr(m.rnn, f"weight_hh_l{layer}").uniform_(-a, a)
            getattr(m.rnn, f"bias_ih_l{layer}").zero_()
            getattr(m.rnn, f"bias_hh_l{layer}").zero_()
            getattr(m.rnn, f"bias_ih_l{layer}")[hidden : 2 * hidden] = 1.0  # PyTorch's gate order is i, f, g, o
        a = math.sqrt(6 / (vocab + embed))
        m.emb.weight.uniform_(-a, a)
        a = math.sqrt(6 / (vocab + hidden))
        m.head.weight.uniform_(-a, a)
        a = math.sqrt(3 / vocab)  # TF gives a 1-D variable its length as both fans
        m.head.bias.uniform_(-a, a)


class CharLSTM(torch.nn.Module):
    def __init__(self, vocab: int, embed: int, hidden: int, layers: int):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, embed)
        self.rnn = torch.nn.LSTM(embed, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, x, state):
        out, state = self.rnn(self.emb(x), state)
        return self.head(out), state


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=str(ROOT / "data" / "tinyshakespeare.txt"))
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    text = Path(args.data).read_text(encoding="utf-8")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([index[c] for c in text])
    B, T, H, E, V = 50, 50, 128, 128, len(chars)
    windows = (len(ids) - 1) // B // T
    x = ids[: windows * B * T].view(B, -1)
    y = ids[1 : windows * B * T + 1].view(B, -1)
    model = CharLSTM(V, E, H, 2)
    tensorflow_init(model, H, E, V)
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    losses = []
    t0 = time.time()
    for _ in range(args.epochs):
        state = None
        for w in range(windows):
            out, state = model(x[:, w * T : (w + 1) * T], state)
            state = tuple(s.detach() for s in state)
            loss = torch.nn.functional.cross_entropy(out.reshape(-1, V), y[:, w * T : (w + 1) * T].reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
            opt.step()
            losses.append(loss.item())
    n = len(losses)
    for b in range(max(0, n - 7), n):
        print(f"{b:<11d}{losses[b]:.3f}")
    last = losses[-7:]
    print(f"PyTorch {torch.__version__}: {n} batches, the last 7 {min(last):.3f}-{max(last):.3f}, {losses[-1]:.3f} at {n - 1} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
