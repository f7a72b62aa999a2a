/**
 * The playground's training speed next to the CLI's, on the same machine in
 * the same run: W1 (1 x 128 LSTM, embedding 64, batch 32 x seq 64, Adam) on
 * the bundled Shakespeare, in headless Chromium (the built page, served
 * cross-origin isolated by `vite preview`) and with `recur train`. Prints
 * chars/s; never asserts. Needs /usr/bin/chromium and `npm run build:web`.
 *   npm run bench:web [-- --seconds 30]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { preview } from 'vite';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' } } });
const seconds = Number(values.seconds);
const root = fileURLToPath(new URL('..', import.meta.url));

const server = await preview({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'silent', preview: { port: 0, host: '127.0.0.1' } });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
});
const page = await browser.newPage();
await page.goto(server.resolvedUrls!.local[0]);
await page.waitForSelector('body[data-threads]', { timeout: 30000 });
const threads = await page.getAttribute('body', 'data-threads');
for (const [id, v] of [
  ['layers', '1'],
  ['hidden', '128'],
  ['embed', '64'],
  ['batch', '32'],
  ['seq', '64'],
  ['eval-every', '100000'],
  ['sample-every', '100000'],
])
  await page.fill(`#${id}`, v);
await page.selectOption('#excerpt', '0');
await page.click('#start');
await page.waitForSelector('#stats[data-chars-per-sec]', { timeout: 60000 });
await page.waitForTimeout(seconds * 1000);
const pageRate = Number(await page.getAttribute('#stats', 'data-chars-per-sec'));
await browser.close();
await server.close();

// the CLI, the same model and data, evaluation and samples pushed past the end
const cli = spawnSync(
  process.execPath,
  [
    join(root, 'bin/recur.js'),
    'train',
    join(root, 'data/tinyshakespeare.txt'),
    '--layers',
    '1',
    '--hidden',
    '128',
    '--embed',
    '64',
    '--batch',
    '32',
    '--seq',
    '64',
    '--minutes',
    String(seconds / 60),
    '--eval-every',
    '0',
    '--sample-every',
    '0',
    '--quiet',
    '--out',
    join(root, 'dist/bench-web.safetensors'),
  ],
  { encoding: 'utf8' },
);
const m = /([\d,]+) chars\/s/.exec(cli.stdout + cli.stderr);
const cliRate = m ? Number(m[1].replace(/,/g, '')) : NaN;
console.log(
  `W1 training, ${seconds} s each: page (Chromium, ${threads} threads) ${Math.round(pageRate).toLocaleString('en-US')} chars/s; CLI (Node) ${cliRate.toLocaleString('en-US')} chars/s; page/CLI ${(pageRate / cliRate).toFixed(2)}`,
);
