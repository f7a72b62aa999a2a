/** The `recur` command. Training and sampling commands arrive with the char-rnn work; for now it prints usage. */
const USAGE = `Usage: recur <command> [options]

recur trains and samples recurrent neural networks.

Commands (coming next):
  train     train a character-level language model on a text file
  sample    generate text from a checkpoint

Options:
  -h, --help     show this help
  -v, --version  show the version
`;

export function main(argv: string[]): number {
  const [cmd] = argv;
  if (cmd === '-v' || cmd === '--version') {
    process.stdout.write('recur 0.1.0\n');
    return 0;
  }
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  process.stderr.write(`recur: '${cmd}' is not a command yet. Run 'recur --help' to see what is available.\n`);
  return 2;
}
