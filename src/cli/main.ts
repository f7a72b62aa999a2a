/** The `recur` command: argument parsing (commander) and error handling. */
import '../node/wasm-features.js';
import '../node/threads.js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { int, num } from './options.js';
import { CONFIG_LIMITS } from '../models/config.js';
import { CELL_KIND_NAMES, CELL_KINDS } from '../nn/rnn/kinds.js';
import { UserError } from './errors.js';
import { asUserErrorUnlessBug, evalCommand, infoCommand, sampleCommand, trainCommand } from './commands.js';
import { forecastCommand } from './forecast.js';
import { exportCommand, importTorchCommand } from './interop.js';
import { defaultTrainOptions, OPTIMIZER_NAMES, SCHEDULE_NAMES } from '../train/trainer.js';
import { defaultLMConfig, FFN_MULTIPLE } from '../models/config.js';
import { sampleDefaults } from '../generate/core.js';

// the defaults have one home, the library: the help text shows them as they are there
const T = defaultTrainOptions;
const M = defaultLMConfig;

const keepCrHelp = "keep '\\r' (Windows CRLF or lone CR line ends) instead of reading line ends as LF";

export const VERSION = '0.1.0';

function program(): Command {
  const p = new Command('recur')
    .description('Train and sample recurrent language models (characters or words); forecast numeric series.')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  p.command('train')
    .description('train a language model on a UTF-8 text file, over characters (default) or words')
    .argument('<text-file>', 'UTF-8 text to learn')
    .addOption(
      new Option('--model <type>', 'recurrent cell (mingru, minlstm: the minimal GRU and LSTM of Feng et al. 2024, gates from the input alone)')
        .choices(CELL_KIND_NAMES)
        .default(M.model),
    )
    .option(
      '--forget-bias <b>',
      "LSTM: a constant added to every forget gate's pre-activation on top of the learned biases (TensorFlow's forget_bias; not trained)",
      num(() => true, 'a number'),
      0,
    )
    .option('--peepholes', 'LSTM: peephole weights, the cell state feeding the input, forget and output gates (TensorFlow-style)')
    .option('--layers <n>', 'recurrent layers (of a block model: residual blocks)', int(1, CONFIG_LIMITS.layers), M.layers)
    .option('--hidden <n>', 'hidden units per layer (of a block model: its width)', int(1, CONFIG_LIMITS.hidden), M.hidden)
    .option('--embed <n>', "embedding size (0: one-hot input; a block model's is its width)", int(0, CONFIG_LIMITS.embed), M.embed)
    .option(
      '--blocks',
      'residual blocks instead of a plain stack: each is x + cell(RMSNorm(x)), then x + FFN(RMSNorm(x)) ' +
        `with a GELU feed-forward ${FFN_MULTIPLE} x --hidden wide, for deeper models`,
    )
    .addOption(new Option('--tokens <kind>', "model characters or words (default: char; on --resume, the checkpoint's)").choices(['char', 'word']))
    .option('--min-count <n>', 'word models: words seen fewer times become <unk> (default: 2)', int(1))
    .option(
      '--dropout <p>',
      'dropout between layers and before the output (in a block model: on each residual branch)',
      num((n) => n >= 0 && n < 1, 'a number from 0 up to (not including) 1'),
      M.dropout,
    )
    .option('--batch <n>', 'parallel streams per step', int(1), T.batch)
    .option('--seq <n>', 'time steps per window (truncated BPTT length)', int(1), T.seq)
    .option(
      '--lr <x>',
      'learning rate',
      num((n) => n > 0, 'a positive number'),
      T.lr,
    )
    .addOption(new Option('--optimizer <name>', "optimizer (rmsprop: char-rnn's, with --rmsprop-decay)").choices(OPTIMIZER_NAMES).default(T.optimizer))
    .option(
      '--rmsprop-decay <x>',
      "rmsprop: decay of the running mean of squared gradients (char-rnn's decay_rate; PyTorch's alpha)",
      num((n) => n >= 0 && n < 1, 'a number of at least 0 and below 1'),
      T.rmspropDecay,
    )
    .option(
      '--clip <x>',
      'clip gradients to this global norm (0: off)',
      num((n) => n >= 0, 'a number of at least 0'),
      T.clip,
    )
    .option(
      '--clip-value <x>',
      "clip each gradient element to [-x, x] before --clip (0: off; min-char-rnn's is 5)",
      num((n) => n >= 0, 'a number of at least 0'),
      T.clipValue,
    )
    .option(
      '--loss-sum',
      "descend the loss summed over each window's time steps instead of its mean (min-char-rnn, Grokking), so their learning rates carry over",
      T.lossSum,
    )
    .addOption(
      new Option(
        '--schedule <name>',
        'learning-rate schedule: exponential (x --lr-decay after each epoch) or cosine (half a cosine from --lr to --lr-min over the run, ending with its --steps, --epochs or --minutes)',
      )
        .choices(SCHEDULE_NAMES)
        .default(T.schedule),
    )
    .option(
      '--lr-decay <x>',
      'exponential schedule: multiply the learning rate by this after each epoch',
      num((n) => n > 0 && n <= 1, 'a number above 0 and at most 1'),
      T.lrDecay,
    )
    .option(
      '--lr-min <x>',
      "cosine schedule: the learning rate at the run's end",
      num((n) => n >= 0, 'a number of at least 0'),
      T.lrMin,
    )
    .option('--warmup <n>', 'raise the learning rate linearly to --lr over the first N steps (0: none)', int(0), T.warmup)
    .option('--epochs <n>', 'stop after this many epochs (default 1 when no other limit is given)', int(1))
    .option(
      '--minutes <m>',
      'stop after this many minutes',
      num((n) => n > 0, 'a positive number'),
    )
    .option('--steps <n>', 'stop after this many steps', int(1))
    .option(
      '--val-frac <x>',
      'fraction of the text (at its end) held out for validation (0: train on all of it; no validation figures)',
      num((n) => n >= 0 && n < 0.5, 'a number of at least 0 and below 0.5'),
      T.valFrac,
    )
    .option('--eval-every <n>', 'validate and checkpoint every N steps (0: only at the end)', int(0), T.evalEvery)
    .option(
      '--eval-chars <n>',
      'characters (word tokens for --tokens word) from the start of the validation split that each ' +
        'periodic validation scores; the final one scores the whole split (0: the whole split every time)',
      num((n) => Number.isSafeInteger(n) && (n === 0 || n >= 2), '0 or a whole number of at least 2'),
      T.evalChars,
    )
    .option('--sample-every <n>', 'print a sample every N steps (0: only at the end)', int(0), T.sampleEvery)
    .option('--out <file>', 'checkpoint to write (checked before training; never the text itself)', 'model.safetensors')
    .option('--resume <file>', 'continue training from this checkpoint: its model, and its training options unless given again')
    .option('--seed <n>', 'random seed', int(0), T.seed)
    .option('--keep-cr', keepCrHelp)
    .option('--quiet', 'no progress bar')
    .action(async (file: string, flags, cmd: Command) => {
      code = await trainCommand(file, { ...flags, explicit: explicitOptions(cmd) });
    });

  p.command('sample')
    .description('generate text from a checkpoint, streaming it to stdout')
    .argument('<checkpoint>', 'a .safetensors checkpoint written by recur train')
    .option('--prime <text>', 'text to start from (printed first)')
    .option('--length <n>', 'characters (words for a word model) to generate', int(1), sampleDefaults.length)
    .option(
      '--temperature <t>',
      'sampling temperature',
      num((n) => n > 0, 'a positive number'),
      sampleDefaults.temperature,
    )
    .option('--top-k <k>', 'sample only from the k most likely tokens (characters or words)', int(1))
    .option(
      '--top-p <p>',
      'sample only from the most likely tokens covering probability p',
      num((n) => n > 0 && n <= 1, 'a number above 0 and at most 1'),
    )
    .option('--argmax', 'always take the most likely token')
    .option('--argmax-after-space', "argmax, except sample the token after a space (char-rnn's option)")
    .option('--seed <n>', 'random seed (default: from the clock)', int(0))
    .action((ck: string, flags) => sampleCommand(ck, flags));

  p.command('eval')
    .description("print a checkpoint's loss, perplexity and bits per character (or word) on a text")
    .argument('<checkpoint>', 'a .safetensors checkpoint written by recur train')
    .argument('<text-file>', 'UTF-8 text to score')
    .option('--batch <n>', 'parallel streams', int(1), 32)
    .option('--seq <n>', 'window length', int(1), 64)
    .option('--keep-cr', keepCrHelp)
    .action((ck: string, file: string, flags) => evalCommand(ck, file, flags));

  p.command('forecast')
    .description('train on a numeric CSV column and forecast its next values (CSV out, SVG plot)')
    .argument('<file.csv>', 'CSV with a header row')
    .option('--column <name>', 'the column to forecast (needed when there are several; an unnamed one is column_N)')
    .option('--sep <char>', 'the column separator (default: comma, semicolon or tab, whichever the header row uses)', (v: string) => {
      const sep = v === '\\t' || v === 'tab' ? '\t' : v;
      if (sep.length !== 1 || sep === '"') throw new InvalidArgumentError('expected one character (or tab).');
      return sep;
    })
    .requiredOption('--horizon <n>', 'values to forecast', int(1))
    .option('--window <n>', 'values the model reads before forecasting (default: max(20, 2 x horizon))', int(1))
    .addOption(new Option('--model <type>', 'recurrent cell').choices(CELL_KIND_NAMES).default('gru'))
    .option('--layers <n>', 'recurrent layers', int(1, CONFIG_LIMITS.layers), 1)
    .option('--hidden <n>', 'hidden units per layer', int(1, CONFIG_LIMITS.hidden), 32)
    .option('--ar <n>', 'lags of the linear autoregressive path (fitted by least squares) added to the recurrent output (0: none; default: the window)', int(0))
    .option('--steps <n>', 'training steps', int(1), 1000)
    .option('--batch <n>', 'windows per step', int(1), 32)
    .option(
      '--lr <x>',
      'learning rate',
      num((n) => n > 0, 'a positive number'),
      3e-3,
    )
    .option('--seed <n>', 'random seed', int(0), 1)
    .option('--out <file>', 'forecast CSV to write', 'forecast.csv')
    .option('--plot <file>', 'SVG plot to write', 'forecast.svg')
    .option('--quiet', 'print only the final line')
    .action((file: string, flags) => forecastCommand(file, flags));

  p.command('info')
    .description("print a checkpoint's model, vocabulary size, parameter count and progress")
    .argument('<checkpoint>', 'a .safetensors checkpoint written by recur train')
    .action((ck: string) => infoCommand(ck));

  p.command('import-torch')
    .description('turn a PyTorch char model (its state dict as .safetensors, plus the vocabulary) into a checkpoint')
    .argument(
      '<state-dict>',
      `a .safetensors state dict: [Embedding] + a recurrent module (${CELL_KIND_NAMES.map((k) => CELL_KINDS[k].name).join(', ')}) + Linear, ` +
        "any module names; or a block model (--blocks) under recur's names: embedding, blocks.{i}.*, norm, head",
    )
    .requiredOption('--vocab <file>', 'the characters in index order: a JSON list, a JSON {char: index} object, or a text file of the characters')
    .addOption(new Option('--model <type>', 'check the cell type read from the weights').choices(CELL_KIND_NAMES))
    .option('--out <file>', 'checkpoint to write', 'model.safetensors')
    .action((file: string, flags) => importTorchCommand(file, flags));

  p.command('export')
    .description(
      'write a checkpoint as a standard ONNX graph (opset 17: ONNX LSTM/GRU/RNN operators; MinGRU/MinLSTM as MatMul and a Scan; ' +
        'a block model with RMSNorm and GELU from elementwise operators)',
    )
    .argument('<checkpoint>', 'a .safetensors checkpoint')
    .requiredOption('--onnx <file>', 'the .onnx file to write')
    .addOption(
      new Option(
        '--states <kind>',
        'initial states h0/c0: optional inputs defaulting to zeros, or required inputs ' + '(ONNX Runtime for JavaScript can only feed required ones)',
      )
        .choices(['optional', 'required'])
        .default('optional'),
    )
    .action(async (ck: string, flags) => exportCommand(ck, flags, VERSION));
  return p;
}

/** The options given on the command line, as opposed to defaults. */
function explicitOptions(cmd: Command): Set<string> {
  return new Set(cmd.options.map((o) => o.attributeName()).filter((k) => cmd.getOptionValueSource(k) === 'cli'));
}

/** An exit code a command chose (train: 130 after Ctrl-C); commander's action results are not passed on. */
let code = 0;

/** Run the CLI; resolves to the exit code (0 ok, 1 user error, 2 usage error, 130 interrupted). */
export async function main(argv: string[]): Promise<number> {
  const p = program();
  code = 0;
  try {
    if (argv.length === 0) {
      p.outputHelp();
      return 0;
    }
    await p.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; parse errors were already printed by commander
      return e.exitCode === 0 ? 0 : 2;
    }
    const err = asUserErrorUnlessBug(e);
    if (err instanceof UserError) {
      process.stderr.write(`recur: ${err.message}\n`);
      return err.exitCode;
    }
    // not the user's doing: a bug in recur, reported with its stack so it can be fixed
    process.stderr.write(`recur: internal error (please report it): ${(e as Error)?.stack ?? e}\n`);
    return 1;
  }
}
