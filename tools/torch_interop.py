#!/usr/bin/python3
"""recur <-> PyTorch for character-level language models.

recur's CharLM is nn.Embedding (or one-hot input) -> nn.LSTM / nn.GRU / nn.RNN
(batch_first, tanh for RNN) -> nn.Linear, with PyTorch's parameter names,
shapes and gate orders, so moving a model is renaming at most. This script
runs with Debian's python3-torch and nothing else (Debian has no `safetensors`
package, so the format is read and written here by its definition). npm test
never needs it.

Commands:
  to-torch   <recur.safetensors> --out model.pt
      a recur checkpoint -> a .pt file: {'config', 'vocab', 'state_dict'}
      (load it with `load_pt`, or build CharModel(**config) and load_state_dict)
  from-torch <model.pt | state_dict.safetensors> [--vocab vocab.json] --out model.safetensors
      a PyTorch model of that shape -> a recur checkpoint `recur sample` can use.
      A .pt may hold a whole CharModel, a bare state dict, or the dict
      `to-torch` writes; the vocabulary comes from the file or --vocab
  state-dict <model.pt> --out state_dict.safetensors --vocab-out vocab.json
      just the weights and the vocabulary, for `recur import-torch`
  logits     <recur.safetensors | model.pt> --text "ROMEO:"
      PyTorch's logits for a text (to compare with recur by eye)

As a library:  from torch_interop import CharModel, load_recur, save_recur
"""
import argparse
import json
import os
import struct
import sys
import zlib

import torch
import torch.nn.functional as F

CELLS = {'lstm': (torch.nn.LSTM, 4), 'gru': (torch.nn.GRU, 3), 'rnn': (torch.nn.RNN, 1)}


class CharModel(torch.nn.Module):
    """recur's CharLM in PyTorch: the same names (embedding.*, rnn.*, head.*), shapes and outputs."""

    def __init__(self, vocab_size, model='lstm', layers=2, hidden=128, embed=64, dropout=0.0):
        super().__init__()
        if model not in CELLS:
            raise ValueError(f"unknown cell type '{model}': use lstm, gru or rnn")
        self.config = dict(vocabSize=vocab_size, model=model, layers=layers, hidden=hidden, embed=embed, dropout=dropout)
        self.embedding = torch.nn.Embedding(vocab_size, embed) if embed > 0 else None
        cls, _ = CELLS[model]
        self.rnn = cls(embed if embed > 0 else vocab_size, hidden, num_layers=layers, batch_first=True,
                       dropout=dropout if layers > 1 else 0.0)
        self.drop = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(hidden, vocab_size)

    def forward(self, ids, state=None):
        """ids [B, T] (int64) -> logits [B, T, V] and the final state (h, or (h, c) for LSTM)."""
        if self.embedding is not None:
            x = self.embedding(ids)
        else:
            x = F.one_hot(ids, self.config['vocabSize']).to(self.head.weight.dtype)
        out, state = self.rnn(x, state)
        return self.head(self.drop(out)), state


# ---- safetensors, by the format's definition ----

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'F16': torch.float16, 'BF16': torch.bfloat16,
          'I64': torch.int64, 'I32': torch.int32, 'I16': torch.int16, 'I8': torch.int8, 'U8': torch.uint8}


def read_safetensors(path):
    """-> (dict name -> tensor, metadata dict)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {}) or {}
    data = raw[8 + n:]
    tensors = {}
    for name, e in header.items():
        a, b = e['data_offsets']
        t = torch.frombuffer(bytearray(data[a:b]), dtype=DTYPES[e['dtype']]) if b > a else torch.zeros(0, dtype=DTYPES[e['dtype']])
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
    """A recur checkpoint -> (CharModel in eval mode, vocabulary list, recur metadata)."""
    tensors, meta = read_safetensors(path)
    if 'recur' not in meta:
        raise SystemExit(f"{path} is not a recur checkpoint (no 'recur' metadata)")
    info = json.loads(meta['recur'])
    c = info['config']
    model = CharModel(c['vocabSize'], c['model'], c['layers'], c['hidden'], c['embed'], c.get('dropout', 0.0))
    weights = {k: v for k, v in tensors.items() if not k.startswith(('optim.', 'state.'))}
    model.load_state_dict(weights)  # strict: names and shapes must match exactly
    return model.eval(), info['vocab'], info


def save_recur(model, vocab, path, created_by='tools/torch_interop.py'):
    """A CharModel (or any module with the same state-dict names) -> a recur checkpoint."""
    config = dict(model.config)
    if len(vocab) != config['vocabSize']:
        raise SystemExit(f"the vocabulary has {len(vocab)} characters but the model has {config['vocabSize']} outputs")
    meta = {
        'format': 'recur-charlm', 'version': 1, 'config': config, 'vocab': list(vocab), 'options': {},
        'progress': {'step': 0, 'epoch': 0, 'window': 0, 'lastValLoss': None, 'seconds': 0},
        'optimizer': None, 'rng': None, 'createdBy': created_by,
    }
    sd = {k: v for k, v in model.state_dict().items()}
    # what recur verifies on load: the CRC-32 of each tensor's bytes as write_safetensors stores them (F32),
    # and of the recur JSON's UTF-8 text, under 'recur_crc32' beside it
    meta['checksums'] = {k: f'{zlib.crc32(v.detach().contiguous().to(torch.float32).numpy().tobytes()):08x}' for k, v in sd.items()}
    recur = json.dumps(meta, ensure_ascii=False)
    write_safetensors(path, sd, {'recur': recur, 'recur_crc32': f'{zlib.crc32(recur.encode("utf-8")):08x}'})


def normalize_names(sd):
    """Rename a state dict of the same shape but other names (say encoder.*, lstm.*, decoder.*) to CharModel's.

    The recurrent module is the one with weight_ih_l0; the output layer is the
    other module with a bias (an embedding has none); what is left is the embedding.
    """
    prefix = next((k[:-len('weight_ih_l0')] for k in sd if k.endswith('weight_ih_l0')), None)
    if prefix is None:
        raise SystemExit('the state dict has no recurrent layer (no key ending in weight_ih_l0)')
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


def infer_config(sd, vocab_size=None):
    """CharModel arguments from a state dict with CharModel's names: cell type from the gate rows."""
    layers = 0
    while f'rnn.weight_ih_l{layers}' in sd:
        layers += 1
    if layers == 0:
        raise SystemExit("the state dict has no 'rnn.weight_ih_l0': it is not a CharModel (rename its keys to embedding.*, rnn.*, head.*)")
    w_hh = sd['rnn.weight_hh_l0']
    hidden = w_hh.shape[1]
    gates = w_hh.shape[0] // hidden
    model = {4: 'lstm', 3: 'gru', 1: 'rnn'}.get(gates)
    if model is None or w_hh.shape[0] % hidden:
        raise SystemExit(f'unknown cell type: rnn.weight_hh_l0 has shape {list(w_hh.shape)} (4, 3 or 1 gates expected)')
    v = sd['head.weight'].shape[0]
    if vocab_size is not None and vocab_size != v:
        raise SystemExit(f'the vocabulary has {vocab_size} characters but the model has {v} outputs')
    embed = sd['embedding.weight'].shape[1] if 'embedding.weight' in sd else 0
    return dict(vocab_size=v, model=model, layers=layers, hidden=hidden, embed=embed)


def read_vocab(path):
    """A JSON list of characters, a JSON {char: index} object, or a text file of the characters in order."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    try:
        v = json.loads(text)
    except json.JSONDecodeError:
        return list(text)
    if isinstance(v, dict):
        return [c for c, _ in sorted(v.items(), key=lambda kv: kv[1])]
    return list(v)


def load_pt(path, vocab_path=None):
    """A .pt (whole CharModel, bare state dict, or to-torch's dict) or a .safetensors state dict -> (CharModel, vocab)."""
    vocab = read_vocab(vocab_path) if vocab_path else None
    if path.endswith('.safetensors'):
        sd, meta = read_safetensors(path)
        if vocab is None and 'vocab' in meta:
            vocab = json.loads(meta['vocab'])
    else:
        obj = torch.load(path, map_location='cpu')
        if isinstance(obj, torch.nn.Module):
            sd = obj.state_dict()
            vocab = vocab or getattr(obj, 'vocab', None)
        elif isinstance(obj, dict) and 'state_dict' in obj:
            sd = obj['state_dict']
            vocab = vocab or obj.get('vocab')
        else:
            sd = obj
    if vocab is None:
        raise SystemExit(f'{path} carries no vocabulary: give --vocab')
    sd = normalize_names(sd)
    model = CharModel(**infer_config(sd, len(vocab)))
    model.load_state_dict({k: v.float() for k, v in sd.items()})
    return model.eval(), vocab


def logits_for(model, ids, state=None, dtype=torch.float64):
    """Logits and final state for ids [B, T], computed in `dtype` (float64 makes a reference for float32 code)."""
    m = CharModel(**{'vocab_size': model.config['vocabSize'], **{k: model.config[k] for k in ('model', 'layers', 'hidden', 'embed')}})
    m.load_state_dict(model.state_dict())
    m = m.to(dtype).eval()
    with torch.no_grad():
        if state is not None:
            state = tuple(s.to(dtype) for s in state) if isinstance(state, tuple) else state.to(dtype)
        return m(torch.as_tensor(ids, dtype=torch.int64), state)


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
    c = sub.add_parser('state-dict', help='.pt -> state_dict.safetensors + vocab.json for `recur import-torch`')
    c.add_argument('model')
    c.add_argument('--vocab')
    c.add_argument('--out', required=True)
    c.add_argument('--vocab-out', required=True)
    d = sub.add_parser('logits', help="print PyTorch's logits for a text")
    d.add_argument('model')
    d.add_argument('--text', required=True)
    args = ap.parse_args(argv)

    if args.cmd == 'to-torch':
        model, vocab, _ = load_recur(args.checkpoint)
        torch.save({'config': model.config, 'vocab': vocab, 'state_dict': model.state_dict()}, args.out)
        print(f"wrote {args.out}: a {model.config['layers']}x{model.config['hidden']} {model.config['model'].upper()}, vocabulary {len(vocab)}")
    elif args.cmd == 'from-torch':
        model, vocab = load_pt(args.model, args.vocab)
        save_recur(model, vocab, args.out)
        print(f'wrote {args.out}')
    elif args.cmd == 'state-dict':
        model, vocab = load_pt(args.model, args.vocab)
        write_safetensors(args.out, model.state_dict(), {'format': 'pt'})
        with open(args.vocab_out, 'w', encoding='utf-8') as f:
            json.dump(vocab, f, ensure_ascii=False)
        print(f'wrote {args.out} and {args.vocab_out}')
    else:
        if args.model.endswith('.safetensors'):
            model, vocab, _ = load_recur(args.model)
        else:
            model, vocab = load_pt(args.model)
        ids = [[vocab.index(ch) for ch in args.text]]
        logits, _ = logits_for(model, ids)
        torch.set_printoptions(precision=6, linewidth=160)
        print(logits[0])


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
