#!/usr/bin/python3
"""recur <-> PyTorch for character-level language models.

recur's LanguageModel is nn.Embedding (or one-hot input) -> nn.LSTM / nn.GRU / nn.RNN
(batch_first, tanh for RNN) or MinGRU / MinLSTM (defined here, with PyTorch's
RNN conventions) -> nn.Linear, with PyTorch's parameter names, shapes and gate
orders, so moving a model is renaming at most. Its block form (config.blocks,
`recur train --blocks`) is BlockCharModel here, under recur's own names. This script
runs with Debian's python3-torch and nothing else (Debian has no `safetensors`
package, so the format is read and written here by its definition). npm test
never needs it.

Commands:
  to-torch   <recur.safetensors> --out model.pt
      a recur checkpoint -> a .pt file: {'config', 'vocab', 'state_dict'}, where
      'config' is the model's config as JSON text (torch 1.13's weights-only
      loader reads no floats); load it with `load_pt`. An LSTM's forgetBias
      (a constant on the forget gate) is folded into bias_ih's forget rows, so
      the config has none and the outputs are the same; an LSTM with
      peepholes is refused (nn.LSTM has none)
  from-torch <model.pt | state_dict.safetensors> [--vocab vocab.json] --out model.safetensors [--trust-pickle]
      a PyTorch model of that shape -> a recur checkpoint `recur sample` can use.
      A .pt may hold a bare state dict or the dict `to-torch` writes (or, with
      --trust-pickle, a whole CharModel or BlockCharModel); the vocabulary comes
      from the file or --vocab. A plain stack may use any module names; a state
      dict with blocks.0.* keys is a block model, under BlockCharModel's names
  state-dict <model.pt> --out state_dict.safetensors --vocab-out vocab.json [--trust-pickle]
      just the weights and the vocabulary, for `recur import-torch`
  logits     <recur.safetensors | model.pt> --text "ROMEO:" [--trust-pickle]
      PyTorch's logits for a text (to compare with recur by eye)

Untrusted files: a .pt is a pickle, and unpickling runs whatever code the file
names, so a downloaded model.pt could do anything with your account. Every .pt
is therefore read with torch.load(weights_only=True), which builds nothing but
tensors, numbers, strings and plain containers, after checking that the zip
archive is sound and that no tensor claims more bytes than the file stores. A
file holding other objects (a whole pickled nn.Module, say) is refused: save
just the weights with torch.save(model.state_dict(), 'model.pt'), or pass
--trust-pickle to unpickle it fully, which is only safe for a file whose author
you trust. A .safetensors file is checked before anything is read from it
(header size, JSON, dtypes, shapes, in-bounds non-overlapping byte ranges).
A bad file gets one sentence on stderr and exit code 1.

As a library:  from torch_interop import CharModel, BlockCharModel, MinGRU, MinLSTM, load_recur, save_recur
"""
import argparse
import io
import json
import math
import os
import pickle
import pickletools
import re
import struct
import sys
import zipfile
import zlib

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence


class _MinRNN(torch.nn.Module):
    """What MinGRU and MinLSTM share: nn.GRU's constructor, parameter names, state layout and packed-sequence semantics.

    Their gates read x_t only, so a layer has weight_ih_l{k}[_reverse] [G*H, in]
    and bias_ih_l{k}[_reverse] [G*H] and no hidden-to-hidden weights, and all
    gate pre-activations come from one matmul over the whole sequence; the
    recurrence is then a loop over time with the paper's equations as written
    (a log-space parallel scan would need the paper's other, positive
    parametrisation of h~, which recur does not use).
    """

    GATES = 0  # gate blocks stacked along weight_ih's rows

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        D = 2 if bidirectional else 1
        k = 1 / math.sqrt(hidden_size)  # nn.GRU's (and recur's) initialisation
        for layer in range(num_layers):
            for d in range(D):
                sfx = f'_l{layer}' + ('_reverse' if d else '')
                fan_in = input_size if layer == 0 else hidden_size * D
                self.register_parameter('weight_ih' + sfx, torch.nn.Parameter(torch.empty(self.GATES * hidden_size, fan_in).uniform_(-k, k)))
                if bias:
                    self.register_parameter('bias_ih' + sfx, torch.nn.Parameter(torch.empty(self.GATES * hidden_size).uniform_(-k, k)))

    def extra_repr(self):
        return (f'{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, bias={self.bias}, '
                f'batch_first={self.batch_first}, dropout={self.dropout}, bidirectional={self.bidirectional}')

    def step(self, gates, h):
        """One time step: gate pre-activations [B, G*H] and h_{t-1} [B, H] -> h_t."""
        raise NotImplementedError

    def forward(self, input, hx=None, lengths=None):
        """input [B, T, in] (batch_first) or [T, B, in], or a PackedSequence; hx [num_layers*D, B, H] (default zeros);
        lengths [B] (or the PackedSequence's): steps past a row's end leave its state alone and output zeros, as
        PyTorch's packed sequences do. -> (output [B, T, D*H] (or packed like input), h_n [num_layers*D, B, H])."""
        packed = isinstance(input, PackedSequence)
        if packed:
            input, lengths = pad_packed_sequence(input, batch_first=self.batch_first)
        x = input if self.batch_first else input.transpose(0, 1)
        B, T, _ = x.shape
        D, H = (2 if self.bidirectional else 1), self.hidden_size
        if hx is None:
            hx = x.new_zeros(self.num_layers * D, B, H)
        mask = None
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=x.device)
            mask = (torch.arange(T, device=x.device)[None, :] < lengths[:, None]).to(x.dtype)[..., None]  # [B, T, 1]
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                sfx = f'_l{layer}' + ('_reverse' if d else '')
                gates = F.linear(x, getattr(self, 'weight_ih' + sfx), getattr(self, 'bias_ih' + sfx) if self.bias else None)
                h = hx[layer * D + d]
                out = [None] * T
                for t in (range(T - 1, -1, -1) if d else range(T)):
                    new = self.step(gates[:, t], h)
                    # past a row's end the state is carried unchanged: the forward direction ends at the last
                    # valid step, and the backward one starts there from hx
                    h = new if mask is None else mask[:, t] * new + (1 - mask[:, t]) * h
                    out[t] = new if mask is None else mask[:, t] * new
                outs.append(torch.stack(out, 1))
                finals.append(h)
            x = outs[0] if D == 1 else torch.cat(outs, 2)
            if layer < self.num_layers - 1 and self.dropout > 0:
                x = F.dropout(x, self.dropout, self.training)
        output = x if self.batch_first else x.transpose(0, 1)
        if packed:
            output = pack_padded_sequence(output, lengths.cpu(), batch_first=self.batch_first, enforce_sorted=False)
        return output, torch.stack(finals, 0)


class MinGRU(_MinRNN):
    """minGRU (Feng et al. 2024, "Were RNNs All We Needed?"), as recur's MinGRU computes it:
    z_t = sigmoid(W_z x_t + b_z), h~_t = W_h x_t + b_h, h_t = (1 - z_t) h_{t-1} + z_t h~_t.
    weight_ih_l{k} stacks [W_z; W_h] ([2H, in]), bias_ih_l{k} [b_z; b_h]."""

    GATES = 2

    def step(self, gates, h):
        a_z, h_tilde = gates.chunk(2, 1)
        z = torch.sigmoid(a_z)
        return (1 - z) * h + z * h_tilde


class MinLSTM(_MinRNN):
    """minLSTM (Feng et al. 2024), as recur's MinLSTM computes it: f_t = sigmoid(W_f x_t + b_f),
    i_t = sigmoid(W_i x_t + b_i), h~_t = W_h x_t + b_h, h_t = f_t/(f_t + i_t) h_{t-1} + i_t/(f_t + i_t) h~_t.
    weight_ih_l{k} stacks [W_f; W_i; W_h] ([3H, in]), bias_ih_l{k} [b_f; b_i; b_h]."""

    GATES = 3

    def step(self, gates, h):
        a_f, a_i, h_tilde = gates.chunk(3, 1)
        f, i = torch.sigmoid(a_f), torch.sigmoid(a_i)
        return f / (f + i) * h + i / (f + i) * h_tilde


# recur's kinds (config.model) -> the module; the step kinds have weight_hh_l0, the scan kinds (Min*) do not
CELLS = {'lstm': torch.nn.LSTM, 'gru': torch.nn.GRU, 'rnn': torch.nn.RNN, 'mingru': MinGRU, 'minlstm': MinLSTM}
GATES = {'lstm': 4, 'gru': 3, 'rnn': 1, 'mingru': MinGRU.GATES, 'minlstm': MinLSTM.GATES}
SCAN = {'mingru', 'minlstm'}


def cell_name(model):
    """The module's name for messages: LSTM, GRU, RNN, MinGRU, MinLSTM."""
    return CELLS[model].__name__ if model in CELLS else str(model)


def kind_choices():
    names = list(CELLS)
    return ', '.join(names[:-1]) + ' or ' + names[-1]


class CharModel(torch.nn.Module):
    """recur's LanguageModel in PyTorch: the same names (embedding.*, rnn.*, head.*), shapes and outputs."""

    def __init__(self, vocab_size, model='lstm', layers=2, hidden=128, embed=64, dropout=0.0):
        super().__init__()
        if model not in CELLS:
            raise ValueError(f"unknown cell type '{model}': use {kind_choices()}")
        self.config = dict(vocabSize=vocab_size, model=model, layers=layers, hidden=hidden, embed=embed, dropout=dropout)
        self.embedding = torch.nn.Embedding(vocab_size, embed) if embed > 0 else None
        cls = CELLS[model]
        self.rnn = cls(embed if embed > 0 else vocab_size, hidden, num_layers=layers, batch_first=True,
                       dropout=dropout if layers > 1 else 0.0)
        self.drop = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(hidden, vocab_size)

    def forward(self, ids, state=None):
        """ids [B, T] (int64) -> logits [B, T, V] and the final state (h, or (h, c) for LSTM), [layers, B, hidden] each."""
        if self.embedding is not None:
            x = self.embedding(ids)
        else:
            x = F.one_hot(ids, self.config['vocabSize']).to(self.head.weight.dtype)
        out, state = self.rnn(x, state)
        return self.head(self.drop(out)), state


RMS_NORM_EPS = 1e-5  # recur's RMS_NORM_EPS (src/ops/norm-gelu-core.ts)
FFN_MULTIPLE = 4  # recur's FFN_MULTIPLE (src/models/config.ts)


class RMSNorm(torch.nn.Module):
    """recur's RMSNorm, y = x / sqrt(mean(x^2, last dim) + eps) * weight (PyTorch 1.13 has no nn.RMSNorm)."""

    def __init__(self, d, eps=RMS_NORM_EPS):
        super().__init__()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class RecurrentBlock(torch.nn.Module):
    """recur's RecurrentBlock (src/models/blocks.ts) of width d:
    x = x + drop(cell(norm1(x))); x = x + drop(ffn(norm2(x))), ffn = Linear(d, 4d), GELU (tanh), Linear(4d, d),
    where the cell is a one-layer recurrent module of any kind, input and hidden d."""

    def __init__(self, model, d, dropout=0.0):
        super().__init__()
        self.norm1 = RMSNorm(d)
        self.cell = CELLS[model](d, d, batch_first=True)
        self.norm2 = RMSNorm(d)
        # a Sequential, so the state dict says ffn.0.* and ffn.2.* as recur's does
        self.ffn = torch.nn.Sequential(torch.nn.Linear(d, FFN_MULTIPLE * d), torch.nn.GELU(approximate='tanh'),
                                       torch.nn.Linear(FFN_MULTIPLE * d, d))
        self.drop = torch.nn.Dropout(dropout)

    def forward(self, x, state=None):
        out, state = self.cell(self.norm1(x), state)
        x = x + self.drop(out)
        return x + self.drop(self.ffn(self.norm2(x))), state


class BlockCharModel(torch.nn.Module):
    """recur's LanguageModel in its block form (config.blocks): embedding -> blocks -> RMSNorm -> head, under
    recur's names (embedding.weight, blocks.{i}.norm1.weight, blocks.{i}.cell.*, ..., norm.weight, head.*).
    The embedding is as wide as the blocks, so there is no one-hot input."""

    def __init__(self, vocab_size, model='minlstm', layers=2, hidden=128, dropout=0.0):
        super().__init__()
        if model not in CELLS:
            raise ValueError(f"unknown cell type '{model}': use {kind_choices()}")
        self.config = dict(vocabSize=vocab_size, model=model, layers=layers, hidden=hidden, embed=hidden, dropout=dropout,
                           blocks=True)
        self.embedding = torch.nn.Embedding(vocab_size, hidden)
        self.blocks = torch.nn.ModuleList(RecurrentBlock(model, hidden, dropout) for _ in range(layers))
        self.norm = RMSNorm(hidden)
        self.head = torch.nn.Linear(hidden, vocab_size)

    def forward(self, ids, state=None):
        """ids [B, T] (int64) -> logits [B, T, V] and the final state (h, or (h, c) for LSTM), [layers, B, hidden]
        each, block i's at index i as recur lays it out (and as CharModel's layers are)."""
        x = self.embedding(ids)
        finals = []
        for i, block in enumerate(self.blocks):
            x, final = block(x, None if state is None else state_rows(state, i))
            finals.append(final)
        if isinstance(finals[0], tuple):
            return self.head(self.norm(x)), tuple(torch.cat(parts, 0) for parts in zip(*finals))
        return self.head(self.norm(x)), torch.cat(finals, 0)


def state_rows(state, i):
    """Row i of a state h or (h, c) [layers, B, H], as a one-layer module's state [1, B, H]."""
    return tuple(s[i:i + 1] for s in state) if isinstance(state, tuple) else state[i:i + 1]


def model_for(config):
    """The module a recur config describes: a BlockCharModel when config.blocks, else a CharModel."""
    c = config
    if c.get('blocks'):
        if c['embed'] != c['hidden']:
            raise ValueError(f"a block model's embedding is as wide as the model, but embed is {c['embed']} and hidden {c['hidden']}")
        return BlockCharModel(c['vocabSize'], c['model'], c['layers'], c['hidden'], c.get('dropout', 0.0))
    return CharModel(c['vocabSize'], c['model'], c['layers'], c['hidden'], c['embed'], c.get('dropout', 0.0))


def describe(config):
    """The architecture in a few words, for messages: '2x128 LSTM', or '4-block MinLSTM of width 256'."""
    c = config
    if c.get('blocks'):
        return f"{c['layers']}-block {cell_name(c['model'])} of width {c['hidden']}"
    return f"{c['layers']}x{c['hidden']} {cell_name(c['model'])}"


# ---- safetensors, by the format's definition ----

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'F16': torch.float16, 'BF16': torch.bfloat16,
          'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8}


ITEMSIZE = {k: torch.empty((), dtype=v).element_size() for k, v in DTYPES.items()}
MAX_HEADER = 100 * 1000 * 1000  # bytes of JSON header read at most


def read_bytes(path, what=''):
    """The whole file, or one sentence (SystemExit) when it cannot be read."""
    name = f'{what} {path}' if what else path
    try:
        with open(path, 'rb') as f:
            return f.read()
    except FileNotFoundError:
        raise SystemExit(f'{name} does not exist') from None
    except IsADirectoryError:
        raise SystemExit(f'{name} is a directory') from None
    except OSError as e:
        raise SystemExit(f'cannot read {name}: {e.strerror or e}') from None


def read_safetensors(path):
    """-> (dict name -> tensor, metadata dict). Every part of the file is checked before it is used."""
    def bad(why):
        return SystemExit(f'{path} is not a valid safetensors file: {why}')

    raw = read_bytes(path)
    if len(raw) < 8:
        raise bad(f'it has {len(raw)} bytes, fewer than the 8 of the header length')
    (n,) = struct.unpack('<Q', raw[:8])
    if n > MAX_HEADER:
        raise bad(f'the header length ({n} bytes) is over the {MAX_HEADER // 1000000} MB limit')
    if n > len(raw) - 8:
        raise bad(f'the header length ({n} bytes) is larger than the file ({len(raw)} bytes)')
    try:
        header = json.loads(raw[8:8 + n])
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors; deep nesting recurses
        raise bad('the header is not valid JSON') from None
    if not isinstance(header, dict):
        raise bad('the header is not a JSON object')
    meta = header.pop('__metadata__', None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise bad('__metadata__ is not an object of strings')
    data = memoryview(raw)[8 + n:]
    ranges = []
    for name, e in header.items():
        what = json.dumps(name, ensure_ascii=False)
        if not isinstance(e, dict):
            raise bad(f'the entry for tensor {what} is not an object')
        dtype, shape, offsets = e.get('dtype'), e.get('shape'), e.get('data_offsets')
        if dtype not in DTYPES:
            raise bad(f'tensor {what} has an unknown dtype {json.dumps(dtype)[:40]}')
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise bad(f'tensor {what} has a shape that is not a list of non-negative integers')
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets):
            raise bad(f'tensor {what} has data_offsets that are not two integers')
        a, b = offsets
        if not 0 <= a <= b <= len(data):
            raise bad(f'tensor {what} has data_offsets [{a}, {b}] outside the {len(data)} bytes of data')
        if b - a != math.prod(shape) * ITEMSIZE[dtype]:
            raise bad(f'tensor {what} has {b - a} bytes of data but its shape {shape} of {dtype} needs {math.prod(shape) * ITEMSIZE[dtype]}')
        if b > a:
            ranges.append((a, b, what))
    ranges.sort()
    for (_, end, first), (begin, _, second) in zip(ranges, ranges[1:]):
        if begin < end:
            raise bad(f'the byte ranges of tensors {first} and {second} overlap')
    tensors = {}
    for name, e in header.items():
        a, b = e['data_offsets']
        dt = DTYPES[e['dtype']]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=dt) if b > a else torch.zeros(0, dtype=dt)
        tensors[name] = t.reshape(e['shape'])
    return tensors, meta


def write_safetensors(path, tensors, metadata=None):
    """Everything as F32, 8-byte aligned data, as safetensors.torch.save_file lays it out."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header['__metadata__'] = metadata
    for name, t in tensors.items():
        b = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---- recur checkpoints ----

def load_recur(path):
    """A recur checkpoint -> (CharModel or BlockCharModel in eval mode, vocabulary list, recur metadata).

    An LSTM's forgetBias (TensorFlow's forget_bias, a constant recur adds to every forget gate's pre-activation)
    comes folded into bias_ih's forget rows, where nn.LSTM adds it the same way: the model's config then has
    none, and gives the same outputs. Peepholes, which nn.LSTM lacks, are refused."""
    tensors, meta = read_safetensors(path)
    if 'recur' not in meta:
        raise SystemExit(f"{path} is not a recur checkpoint (no 'recur' metadata)")
    try:
        info = json.loads(meta['recur'])
        config = info['config']
        peepholes, forget_bias = config.get('peepholes', False), float(config.get('forgetBias', 0))
        model = model_for(config)
        vocab = info['vocab']
    except (ValueError, RecursionError, KeyError, TypeError, AttributeError, RuntimeError) as e:
        raise SystemExit(f"{path} has unusable 'recur' metadata ({one_line(e)})") from None
    if peepholes:
        raise SystemExit(f"{path} is an LSTM with peepholes, which PyTorch's nn.LSTM does not have, so it cannot be converted")
    weights = {k: v for k, v in tensors.items() if not k.startswith(('optim.', 'state.'))}
    load_weights(model, weights, path)  # strict: names and shapes must match exactly
    fold_forget_bias(model, forget_bias)
    return model.eval(), vocab, info


LSTM_FORGET_BLOCK = 1  # nn.LSTM stacks its gates i, f, g, o


def fold_forget_bias(model, offset):
    """Add a constant forget-gate offset (recur's config.forgetBias) to bias_ih's forget rows of every nn.LSTM in model."""
    if offset == 0:
        return
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.LSTM):
                H = m.hidden_size
                for name, p in m.named_parameters():
                    if name.startswith('bias_ih'):
                        p[LSTM_FORGET_BLOCK * H:(LSTM_FORGET_BLOCK + 1) * H] += offset


def one_line(e):
    """An exception's message as one line, for a one-sentence error."""
    text = ' '.join(str(e).split()) or type(e).__name__
    return text if len(text) <= 300 else text[:300] + '...'


def load_weights(model, sd, path):
    """model.load_state_dict(sd), strictly, with one sentence when the names or shapes do not fit."""
    try:
        model.load_state_dict(sd)
    except (RuntimeError, TypeError, AttributeError) as e:
        raise SystemExit(f'the weights in {path} do not fit a {describe(model.config)}: {one_line(e)}') from None


def save_recur(model, vocab, path, created_by='tools/torch_interop.py'):
    """A CharModel or BlockCharModel (or any module with the same state-dict names and a config) -> a recur checkpoint."""
    config = dict(model.config)
    if len(vocab) != config['vocabSize']:
        raise SystemExit(f"the vocabulary has {len(vocab)} characters but the model has {config['vocabSize']} outputs")
    meta = {
        # recur writes the oldest version that describes a model: 3 introduced the block form
        'format': 'recur-charlm', 'version': 3 if config.get('blocks') else 1, 'config': config, 'vocab': list(vocab), 'options': {},
        'progress': {'step': 0, 'epoch': 0, 'window': 0, 'lastValLoss': None, 'seconds': 0},
        'optimizer': None, 'rng': None, 'createdBy': created_by,
    }
    sd = {k: v for k, v in model.state_dict().items()}
    # what recur verifies on load: the CRC-32 of each tensor's bytes as write_safetensors stores them (F32),
    # and of the recur JSON's UTF-8 text, under 'recur_crc32' beside it
    meta['checksums'] = {k: f'{zlib.crc32(v.detach().contiguous().to(torch.float32).numpy().tobytes()):08x}' for k, v in sd.items()}
    recur = json.dumps(meta, ensure_ascii=False)
    write_safetensors(path, sd, {'recur': recur, 'recur_crc32': f'{zlib.crc32(recur.encode("utf-8")):08x}'})


def is_block_dict(sd):
    """Whether a state dict is a block model's: its parts are too many to tell apart by shape, so it must
    use BlockCharModel's (recur's) names, which begin blocks.0.* for the first block."""
    return any(k.startswith('blocks.0.') for k in sd)


def normalize_names(sd):
    """Rename a state dict of the same shape but other names (say encoder.*, lstm.*, decoder.*) to CharModel's.

    The recurrent module is the one with weight_ih_l0; the output layer is the
    other module with a bias (an embedding has none); what is left is the embedding.
    A block model's state dict is returned as it is.
    """
    if is_block_dict(sd):
        return sd
    prefixes = [k[:-len('weight_ih_l0')] for k in sd if k.endswith('weight_ih_l0')]
    if not prefixes:
        raise SystemExit('the state dict has no recurrent layer (no key ending in weight_ih_l0)')
    if len(prefixes) > 1:
        named = ', '.join(p + 'weight_ih_l0' for p in prefixes[:4]) + (', ...' if len(prefixes) > 4 else '')
        raise SystemExit(f'the state dict has {len(prefixes)} recurrent modules ({named}): this tool converts '
                         f'a plain stack, one embedding, one recurrent module and one output layer, or a block model '
                         f"under BlockCharModel's names (blocks.0.*, ...)")
    prefix = prefixes[0]
    out = {'rnn.' + k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}
    rest = {k: v for k, v in sd.items() if not k.startswith(prefix)}
    heads = [k[:-len('.bias')] for k in rest if k.endswith('.bias') and k[:-len('.bias')] + '.weight' in rest]
    if len(heads) != 1:
        raise SystemExit(f'cannot tell the output layer among {sorted(rest)}: expected one module with weight and bias')
    out['head.weight'], out['head.bias'] = rest.pop(heads[0] + '.weight'), rest.pop(heads[0] + '.bias')
    if len(rest) > 1:
        raise SystemExit(f'unexpected keys besides one embedding: {sorted(rest)}')
    if rest:
        out['embedding.weight'] = next(iter(rest.values()))
    return out


def check_matrices(sd, keys):
    """One sentence if any of these keys (those present) is not a non-empty matrix."""
    for k in keys:
        if k in sd and (sd[k].dim() != 2 or 0 in sd[k].shape):
            raise SystemExit(f"'{k}' has shape {list(sd[k].shape)}: a non-empty matrix was expected")


def cell_kind(sd, prefix):
    """The kind of the recurrent module under `prefix`, from its gate rows: of weight_hh_l0 [G*H, H] for the step
    kinds, or, when there is no weight_hh_l0 (MinGRU, MinLSTM), of weight_ih_l0 [G*H, in] with H read from
    head.weight [V, H]. A GRU, which always has weight_hh_l0, is therefore never taken for a MinLSTM, though
    both stack 3 blocks. -> (kind, H)."""
    scan = prefix + 'weight_hh_l0' not in sd
    if scan:
        w, hidden = sd[prefix + 'weight_ih_l0'], sd['head.weight'].shape[1]
        where = (f"{prefix}weight_ih_l0 has shape {list(w.shape)} and there is no {prefix}weight_hh_l0, "
                 f"with {hidden} hidden units read from head.weight")
    else:
        w = sd[prefix + 'weight_hh_l0']
        hidden = w.shape[1]
        where = f'{prefix}weight_hh_l0 has shape {list(w.shape)}'
    kinds = [k for k in CELLS if (k in SCAN) == scan]
    model = next((k for k in kinds if GATES[k] * hidden == w.shape[0]), None)
    if model is None:
        counts = [f"{cell_name(k)}'s {GATES[k]}" for k in kinds]
        expected = ', '.join(counts[:-1]) + ' or ' + counts[-1]
        raise SystemExit(f'unknown cell type: {where}, where {expected} gate blocks of {hidden} rows were expected')
    return model, hidden


def check_vocab_size(sd, vocab_size):
    """The output count head.weight gives, after checking it against the vocabulary's size (when given)."""
    v = sd['head.weight'].shape[0]
    if vocab_size is not None and vocab_size != v:
        raise SystemExit(f'the vocabulary has {vocab_size} characters but the model has {v} outputs')
    return v


def infer_config(sd, vocab_size=None):
    """The recur config of a state dict with CharModel's or BlockCharModel's names (what model_for builds from).
    Only what the config needs is read here; load_weights then checks every name and shape."""
    if is_block_dict(sd):
        return infer_block_config(sd, vocab_size)
    layers = 0
    while f'rnn.weight_ih_l{layers}' in sd:
        layers += 1
    if layers == 0:
        raise SystemExit("the state dict has no 'rnn.weight_ih_l0': it is not a CharModel (rename its keys to embedding.*, rnn.*, head.*)")
    check_matrices(sd, ('rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'head.weight', 'embedding.weight'))
    if 'head.weight' not in sd:
        raise SystemExit("the state dict has no 'head.weight': it is not a CharModel")
    model, hidden = cell_kind(sd, 'rnn.')
    v = check_vocab_size(sd, vocab_size)
    embed = sd['embedding.weight'].shape[1] if 'embedding.weight' in sd else 0
    return dict(vocabSize=v, model=model, layers=layers, hidden=hidden, embed=embed, dropout=0.0)


def infer_block_config(sd, vocab_size=None):
    """A block model's config: the blocks counted, the width d from embedding.weight [V, d], the cell kind from
    block 0's cell as a plain stack's is found."""
    layers = 0
    while any(k.startswith(f'blocks.{layers}.') for k in sd):
        layers += 1
    for k in ('embedding.weight', 'head.weight', 'blocks.0.cell.weight_ih_l0'):
        if k not in sd:
            raise SystemExit(f"the state dict has blocks.0.* keys, as a block model has, but no '{k}': it is not a BlockCharModel")
    check_matrices(sd, ('embedding.weight', 'head.weight', 'blocks.0.cell.weight_ih_l0', 'blocks.0.cell.weight_hh_l0'))
    model, _ = cell_kind(sd, 'blocks.0.cell.')
    v = check_vocab_size(sd, vocab_size)
    d = sd['embedding.weight'].shape[1]
    return dict(vocabSize=v, model=model, layers=layers, hidden=d, embed=d, dropout=0.0, blocks=True)


def read_vocab(path):
    """A JSON list of characters, a JSON {char: index} object, or a text file of the characters in order."""
    try:
        text = read_bytes(path, 'vocabulary file').decode('utf-8')
    except UnicodeDecodeError:
        raise SystemExit(f'vocabulary file {path} is not UTF-8 text') from None
    try:
        v = json.loads(text)
    except (ValueError, RecursionError):
        return list(text)
    if isinstance(v, dict):
        return [c for c, _ in sorted(v.items(), key=lambda kv: kv[1])]
    return list(v)


# ---- .pt files: weights only unless the user trusts the file ----

TORCH_MAGIC = 0x1950a86a20f9469cfc6c  # the first pickle of torch.save's legacy (pre-1.6, non-zip) format
ELEMENT_SIZE = {c.__name__: torch._utils._element_size(c.dtype) for c in torch._storage_classes if c.__module__ == 'torch'}
ELEMENT_SIZE['UntypedStorage'] = 1


def refuse_pickle(path, detail=''):
    """The one sentence for a .pt that needs the full unpickler."""
    found = re.search(r'(?:Unsupported class|Unsupported global: GLOBAL) ([\w.]+)', detail)  # torch 1.13 | 2.x
    what = f' ({found.group(1)})' if found else ''
    return SystemExit(f"{path} holds pickled Python objects, not just tensors{what}, and unpickling them could run any code: "
                      f"save just the weights with torch.save(model.state_dict(), 'model.pt'), "
                      f"or pass --trust-pickle to load it anyway if you trust its author")


def persistent_ids(stream):
    """The persistent ids (torch's storage references) in the next pickle of `stream`.

    Read by walking the opcodes with pickletools and a stack of plain values:
    nothing is imported, constructed or called.
    """
    stack, marks, memo, pids = [], [], {}, []
    for op, arg, _ in pickletools.genops(stream):
        name = op.name
        if name == 'MARK':
            marks.append(len(stack))
        elif name in ('PUT', 'BINPUT', 'LONG_BINPUT'):
            memo[arg] = stack[-1]
        elif name == 'MEMOIZE':
            memo[len(memo)] = stack[-1]
        elif name in ('GET', 'BINGET', 'LONG_BINGET'):
            stack.append(memo[arg])
        elif name in ('BINPERSID', 'PERSID'):
            pids.append(stack.pop() if name == 'BINPERSID' else arg)
            stack.append(None)
        elif name in ('TUPLE1', 'TUPLE2', 'TUPLE3'):
            k = int(name[-1])
            if len(stack) < k:
                raise IndexError('stack underflow')
            stack[-k:] = [tuple(stack[-k:])]
        elif name == 'STACK_GLOBAL':
            attr, module = stack.pop(), stack.pop()
            stack.append(f'{module} {attr}')
        elif pickletools.markobject in op.stack_before:
            start = marks.pop()
            items = stack[start:]
            del stack[start:]
            below = op.stack_before.index(pickletools.markobject)
            for _ in range(below):
                stack.pop()
            stack.extend(tuple(items) if name == 'TUPLE' else None for _ in op.stack_after)
        else:
            for _ in op.stack_before:
                stack.pop()
            if not op.stack_before and len(op.stack_after) == 1:
                stack.append(arg)  # a string, number or GLOBAL's 'module name'
            else:
                stack.extend(None for _ in op.stack_after)
        if name == 'STOP':
            break
    return pids


def storage_claims(pids):
    """(key, bytes) for each storage reference ('storage', 'module XStorage', key, location, numel, ...)."""
    claims = {}
    for pid in pids:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] in ('storage', b'storage')
                and isinstance(pid[1], str) and isinstance(pid[2], (str, bytes)) and type(pid[4]) is int and pid[4] >= 0):
            raise ValueError('a storage reference of an unknown form')
        size = ELEMENT_SIZE.get(pid[1].split(' ')[-1])
        if size is None:
            raise ValueError(f'a storage of unknown type {pid[1][:60]}')
        key = pid[2].decode('ascii', 'replace') if isinstance(pid[2], bytes) else pid[2]
        claims[key] = max(claims.get(key, 0), pid[4] * size)
    return claims


def check_pt(path, raw, weights_only):
    """Refuse (one sentence) a .pt torch.load should not be given: not torch.save's format, a damaged or
    decompression-bomb zip, a TorchScript archive, or (when weights_only) tensors claiming bytes the file lacks."""
    def unreadable(why):
        return SystemExit(f'{path} is not a readable PyTorch file: {why}')

    if raw[:4] == b'PK\x03\x04':
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                infos = z.infolist()
                if any(i.file_size > len(raw) for i in infos):
                    raise unreadable('a member of its zip archive unpacks to more bytes than the whole file (torch.save stores them uncompressed)')
                names = {i.filename: i.file_size for i in infos}
                if any(n == 'constants.pkl' or n.endswith('/constants.pkl') for n in names):
                    if weights_only:
                        raise SystemExit(f"{path} is a TorchScript archive (torch.jit.save), which loads code: save the weights with "
                                         f"torch.save(model.state_dict(), 'model.pt'), or pass --trust-pickle if you trust its author")
                    return
                pkls = [n for n in names if n == 'data.pkl' or n.endswith('/data.pkl')]
                if len(pkls) != 1:
                    raise unreadable('its zip archive has no data.pkl, so torch.save did not write it')
                if not weights_only:
                    return
                prefix = pkls[0][:-len('data.pkl')]
                claims = storage_claims(persistent_ids(io.BytesIO(z.read(pkls[0]))))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as e:
            raise unreadable(f'its zip archive is damaged or truncated ({one_line(e)})') from None
        except (ValueError, IndexError, KeyError, TypeError, struct.error) as e:
            raise unreadable(f'its data.pkl is damaged ({one_line(e)})') from None
        for key, nbytes in claims.items():
            have = names.get(f'{prefix}data/{key}')
            if have is None or have < nbytes:
                raise unreadable(f'a tensor claims {nbytes} bytes of storage {key} but the archive holds {have or 0}')
        return
    # torch.save's legacy format: pickles of the magic number, the protocol version, system info and the
    # object, then the storage keys and the storages' bytes
    stream = io.BytesIO(raw)
    try:
        magic = [arg for op, arg, _ in pickletools.genops(stream)]
    except (ValueError, IndexError, KeyError, TypeError, struct.error):
        magic = []
    if TORCH_MAGIC not in magic:
        raise SystemExit(f'{path} is not a PyTorch file (torch.save writes a zip archive)')
    if not weights_only:
        return
    try:
        for _ in range(2):
            for _ in pickletools.genops(stream):
                pass
        claims = storage_claims(persistent_ids(stream))
    except (ValueError, IndexError, KeyError, TypeError, struct.error) as e:
        raise unreadable(f'it is damaged or truncated ({one_line(e)})') from None
    if sum(claims.values()) > len(raw):
        raise unreadable(f'its tensors claim {sum(claims.values())} bytes but the file has {len(raw)}')


def torch_load(path, trust_pickle=False):
    """torch.load(path) with weights_only=True, or with the full unpickler (after a warning) when trust_pickle."""
    raw = read_bytes(path)
    if trust_pickle:
        print(f'warning: --trust-pickle: unpickling {path} with the full unpickler, which runs any code the file carries',
              file=sys.stderr, flush=True)
    check_pt(path, raw, weights_only=not trust_pickle)
    try:
        return torch.load(io.BytesIO(raw), map_location='cpu', weights_only=not trust_pickle)
    except pickle.UnpicklingError as e:
        if trust_pickle:
            raise SystemExit(f'{path} is not a readable PyTorch file: {one_line(e)}') from None
        raise refuse_pickle(path, str(e)) from None
    except Exception as e:  # noqa: BLE001 -- torch reports damaged files with many exception types
        raise SystemExit(f'{path} is not a readable PyTorch file: {one_line(e)}') from None


def load_pt(path, vocab_path=None, trust_pickle=False):
    """A .pt (bare state dict or to-torch's dict; a whole CharModel or BlockCharModel only with trust_pickle) or a
    .safetensors state dict -> (CharModel or BlockCharModel, vocab)."""
    vocab = read_vocab(vocab_path) if vocab_path else None
    if path.endswith('.safetensors'):
        sd, meta = read_safetensors(path)
        if vocab is None and 'vocab' in meta:
            try:
                vocab = json.loads(meta['vocab'])
            except (ValueError, RecursionError):
                raise SystemExit(f"{path} has a 'vocab' entry in its metadata that is not JSON") from None
    else:
        obj = torch_load(path, trust_pickle)
        if isinstance(obj, torch.nn.Module):
            sd = obj.state_dict()
            vocab = vocab or getattr(obj, 'vocab', None)
        elif isinstance(obj, dict) and 'state_dict' in obj:
            sd = obj['state_dict']
            vocab = vocab or obj.get('vocab')
        else:
            sd = obj
    if not isinstance(sd, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in sd.items()):
        raise SystemExit(f'{path} holds no state dict (a dict of names to tensors)')
    if vocab is None:
        raise SystemExit(f'{path} carries no vocabulary: give --vocab')
    if not isinstance(vocab, (list, tuple)) or not all(isinstance(c, str) for c in vocab):
        raise SystemExit(f'the vocabulary of {path} is not a list of strings')
    sd = normalize_names(sd)
    model = model_for(infer_config(sd, len(vocab)))
    load_weights(model, {k: v.float() for k, v in sd.items()}, path)
    return model.eval(), list(vocab)


def logits_for(model, ids, state=None, dtype=torch.float64):
    """Logits and final state for ids [B, T], computed in `dtype` (float64 makes a reference for float32 code)."""
    m = model_for({**model.config, 'dropout': 0.0})
    m.load_state_dict(model.state_dict())
    m = m.to(dtype).eval()
    with torch.no_grad():
        if state is not None:
            state = tuple(s.to(dtype) for s in state) if isinstance(state, tuple) else state.to(dtype)
        return m(torch.as_tensor(ids, dtype=torch.int64), state)


TRUST_HELP = ('unpickle a .pt that holds more than tensors (a whole nn.Module, say) with the full unpickler, '
              'which runs any code in the file: only for files whose author you trust')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    a = sub.add_parser('to-torch', help='recur checkpoint -> .pt')
    a.add_argument('checkpoint')
    a.add_argument('--out', required=True)
    b = sub.add_parser('from-torch', help='.pt or state-dict .safetensors -> recur checkpoint')
    b.add_argument('model')
    b.add_argument('--vocab')
    b.add_argument('--out', required=True)
    b.add_argument('--trust-pickle', action='store_true', help=TRUST_HELP)
    c = sub.add_parser('state-dict', help='.pt -> state_dict.safetensors + vocab.json for `recur import-torch`')
    c.add_argument('model')
    c.add_argument('--vocab')
    c.add_argument('--out', required=True)
    c.add_argument('--vocab-out', required=True)
    c.add_argument('--trust-pickle', action='store_true', help=TRUST_HELP)
    d = sub.add_parser('logits', help="print PyTorch's logits for a text")
    d.add_argument('model')
    d.add_argument('--text', required=True)
    d.add_argument('--trust-pickle', action='store_true', help=TRUST_HELP)
    args = ap.parse_args(argv)

    if args.cmd == 'to-torch':
        model, vocab, info = load_recur(args.checkpoint)
        # the config as JSON text: torch 1.13's weights-only unpickler reads no floats (dropout)
        torch.save({'config': json.dumps(model.config), 'vocab': list(vocab), 'state_dict': model.state_dict()}, args.out)
        folded = info['config'].get('forgetBias', 0)
        note = f", its forget bias {folded} folded into bias_ih" if folded else ''
        print(f"wrote {args.out}: a {describe(model.config)}, vocabulary {len(vocab)}{note}")
    elif args.cmd == 'from-torch':
        model, vocab = load_pt(args.model, args.vocab, args.trust_pickle)
        save_recur(model, vocab, args.out)
        print(f'wrote {args.out}')
    elif args.cmd == 'state-dict':
        model, vocab = load_pt(args.model, args.vocab, args.trust_pickle)
        write_safetensors(args.out, model.state_dict(), {'format': 'pt'})
        with open(args.vocab_out, 'w', encoding='utf-8') as f:
            json.dump(vocab, f, ensure_ascii=False)
        print(f'wrote {args.out} and {args.vocab_out}')
    else:
        if args.model.endswith('.safetensors'):
            model, vocab, _ = load_recur(args.model)
        else:
            model, vocab = load_pt(args.model, trust_pickle=args.trust_pickle)
        missing = [ch for ch in args.text if ch not in vocab]
        if missing:
            raise SystemExit(f'the text has {json.dumps(missing[0], ensure_ascii=False)}, which is not in the vocabulary of {args.model}')
        ids = [[vocab.index(ch) for ch in args.text]]
        logits, _ = logits_for(model, ids)
        torch.set_printoptions(precision=6, linewidth=160)
        print(logits[0])


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
