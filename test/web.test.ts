/**
 * The playground in a real browser: Debian's Chromium driven by
 * playwright-core over the built page (dist/web, built by `npm test`'s
 * pretest) served by `vite preview` with the cross-origin isolation headers.
 * Trains on a small text until the loss falls, saves the model, loads it
 * back and checks that a seeded sample is the text `recur sample` gives for
 * that file and seed; the same for the registry's first scan kind (MinGRU),
 * whose cell view colours by h. Skipped (with one line saying how to install it) only
 * where /usr/bin/chromium is missing.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { CELL_KIND_NAMES, CELL_KINDS, isCellKind } from '../src/nn/rnn/kinds.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.log('# playground browser test skipped: Chromium is not installed (apt-get install chromium)');

describe('playground (headless Chromium)', { skip: !haveChromium && 'Chromium is not installed (apt-get install chromium)' }, () => {
  let server: PreviewServer;
  let browser: Browser;
  let page: Page;
  let url = '';
  let dir = '';
  const errors: string[] = [];

  before(async () => {
    assert.ok(existsSync(join(root, 'dist/web/index.html')), 'dist/web is missing: run npm run build:web');
    dir = mkdtempSync(join(tmpdir(), 'recur-web-'));
    const { preview } = await import('vite');
    server = await preview({ configFile: join(root, 'web/vite.config.ts'), logLevel: 'silent', preview: { port: 0, host: '127.0.0.1', strictPort: false } });
    url = server.resolvedUrls!.local[0];
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-default-apps',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1000 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is cross-origin isolated and runs the wasm backend on more than one thread', async () => {
    await page.goto(url);
    await page.waitForSelector('body[data-threads]', { timeout: 30000 });
    assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
    assert.equal(await page.getAttribute('body', 'data-backend'), 'wasm');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = Number(await page.getAttribute('body', 'data-threads'));
    if (cores > 1) assert.ok(threads > 1, `${threads} thread(s) on ${cores} cores`);
    assert.match((await page.textContent('#env')) ?? '', /cross-origin isolated/);
  });

  it("starts its fields at the library's defaults, as the CLI does", async () => {
    const { defaultTrainOptions: T, defaultLMConfig: M } = await import('../src/index.js');
    const fields = {
      model: M.model,
      layers: M.layers,
      hidden: M.hidden,
      embed: M.embed,
      dropout: M.dropout,
      batch: T.batch,
      seq: T.seq,
      lr: T.lr,
      schedule: T.schedule,
      'lr-decay': T.lrDecay,
      warmup: T.warmup,
      // the page's own time limit, which the default cosine schedule needs
      minutes: 10,
      clip: T.clip,
    };
    for (const [id, v] of Object.entries(fields)) assert.equal(await page.inputValue(`#${id}`), String(v), id);
    const { OPTIMIZER_NAMES, SCHEDULE_NAMES } = await import('../src/index.js');
    assert.deepEqual(await page.locator('#optimizer option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), [...OPTIMIZER_NAMES]);
    assert.deepEqual(await page.locator('#schedule option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)), [...SCHEDULE_NAMES]);
  });

  it('offers every cell kind of the registry, by its name', async () => {
    const options = await page.$$eval('#model option', (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent ?? '']));
    assert.deepEqual(
      options.map(([value]) => value),
      CELL_KIND_NAMES,
    );
    for (const [value, label] of options) {
      assert.ok(isCellKind(value));
      assert.ok(label.startsWith(CELL_KINDS[value].name), `${value}: ${label}`);
    }
  });

  it('trains on a small text until the loss falls, shows samples, saves the model', async () => {
    const text = readFileSync(join(root, 'data/tinyshakespeare.txt'), 'utf8').slice(0, 30000);
    await page.check('input[name=source][value=paste]');
    await page.fill('#paste', text);
    for (const [id, v] of [
      ['layers', '1'],
      ['hidden', '64'],
      ['embed', '16'],
      ['batch', '16'],
      ['seq', '32'],
      ['eval-every', '40'],
      ['sample-every', '40'],
      ['lr', '0.005'],
    ]) {
      await page.fill(`#${id}`, v);
    }
    await page.click('#start');
    // the loss must fall well below where it started (ln 61 = 4.1 for this vocabulary), with a validation point and a sample
    await page.waitForFunction(
      () => {
        const d = (document.getElementById('stats') as HTMLElement).dataset;
        return d.firstLoss !== undefined && d.valLoss !== undefined && Number(d.loss) < 0.75 * Number(d.firstLoss);
      },
      undefined,
      { timeout: 120000 },
    );
    await page.waitForSelector('#train-samples figure pre', { timeout: 60000 });
    const d = await page.evaluate(() => ({ ...(document.getElementById('stats') as HTMLElement).dataset }));
    assert.ok(Number(d.loss) < Number(d.firstLoss), `loss ${d.loss} not below the first ${d.firstLoss}`);
    assert.ok(Number(d.valLoss) < Number(d.firstLoss), `validation loss ${d.valLoss} not below the first training loss ${d.firstLoss}`);
    console.log(
      `# playground: first loss ${Number(d.firstLoss).toFixed(3)}, now ${Number(d.loss).toFixed(3)}, validation ${Number(d.valLoss).toFixed(3)}, ${Math.round(Number(d.charsPerSec))} chars/s`,
    );
    assert.ok(((await page.textContent('#train-samples pre')) ?? '').length > 50);
    // pause holds the step count still; resume moves it on
    await page.click('#pause');
    await page.waitForSelector('body[data-phase=paused]');
    await page.waitForTimeout(300);
    const held = await page.textContent('#st-step');
    await page.waitForTimeout(700);
    assert.equal(await page.textContent('#st-step'), held);
    await page.click('#pause');
    await page.waitForFunction((h) => document.getElementById('st-step')?.textContent !== h, held, { timeout: 30000 });
    mkdirSync(join(root, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(root, 'test-results/playground.png'), fullPage: true });
    await page.click('#stop');
    await page.waitForSelector('body[data-phase=idle]', { timeout: 30000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    await download.saveAs(join(dir, 'page.safetensors'));
    assert.ok(readFileSync(join(dir, 'page.safetensors')).length > 1000);
  });

  it('loads the saved model and samples the same text as `recur sample` for the same seed', async () => {
    await page.reload();
    await page.waitForSelector('body[data-threads]', { timeout: 30000 });
    await page.setInputFiles('#load', join(dir, 'page.safetensors'));
    await page.waitForFunction(() => /^Loaded /.test(document.getElementById('model-info')?.textContent ?? ''), undefined, { timeout: 30000 });
    assert.match((await page.textContent('#model-info')) ?? '', /1 x 64 LSTM, embedding 16.*vocabulary \d+ characters; [\d,]+ parameters/);
    await page.fill('#sample-seed', '7');
    await page.fill('#length', '300');
    await page.click('#sample');
    await page.waitForSelector('#sample-out[data-done]', { timeout: 30000 });
    const inPage = (await page.textContent('#sample-out')) ?? '';
    const cli = spawnSync(process.execPath, [join(root, 'bin/recur.js'), 'sample', join(dir, 'page.safetensors'), '--seed', '7', '--length', '300'], {
      encoding: 'utf8',
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(inPage.length, 300);
    assert.equal(inPage, cli.stdout.replace(/\n$/, ''));
    // an LSTM has a cell state, and the view says it colours by it
    await page.click('#act-show');
    await page.waitForFunction(() => document.getElementById('act-what')?.textContent !== '', undefined, { timeout: 30000 });
    assert.equal(await page.textContent('#act-what'), 'Layer 1, cell 0: the cell state c of an LSTM, over 301 characters.');
  });

  it('samples a model trained by `recur train` exactly as `recur sample` does', async () => {
    const small = join(dir, 'small.txt');
    writeFileSync(small, readFileSync(join(root, 'data/tinyshakespeare.txt'), 'utf8').slice(0, 20000));
    const ck = join(dir, 'cli.safetensors');
    const trained = spawnSync(
      process.execPath,
      [
        join(root, 'bin/recur.js'),
        'train',
        small,
        '--model',
        'gru',
        '--layers',
        '2',
        '--hidden',
        '32',
        '--embed',
        '0',
        '--steps',
        '30',
        '--quiet',
        '--out',
        ck,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(trained.status, 0, trained.stderr);
    await page.setInputFiles('#load', ck);
    await page.waitForFunction(() => /^Loaded cli\.safetensors/.test(document.getElementById('model-info')?.textContent ?? ''), undefined, { timeout: 30000 });
    assert.match((await page.textContent('#model-info')) ?? '', /2 x 32 GRU, one-hot input/);
    await page.fill('#prime', 'ROMEO:');
    await page.fill('#sample-seed', '3');
    await page.fill('#length', '200');
    await page.fill('#temperature', '0.7');
    await page.fill('#top-k', '10');
    await page.click('#sample');
    await page.waitForSelector('#sample-out[data-done]', { timeout: 30000 });
    const inPage = (await page.textContent('#sample-out')) ?? '';
    const cli = spawnSync(
      process.execPath,
      [join(root, 'bin/recur.js'), 'sample', ck, '--prime', 'ROMEO:', '--seed', '3', '--length', '200', '--temperature', '0.7', '--top-k', '10'],
      { encoding: 'utf8' },
    );
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(inPage, cli.stdout.replace(/\n$/, ''));
    await page.fill('#prime', '');
    await page.fill('#temperature', '0.8');
    await page.fill('#top-k', '');
    await page.fill('#length', '300');
    await page.fill('#sample-seed', '7');
    await page.click('#sample');
    await page.waitForSelector('#sample-out[data-done]', { timeout: 30000 });
  });

  it('colours a text by one cell and finds the cells that follow a pattern', async () => {
    await page.selectOption('#act-source', 'sample');
    await page.click('#act-show');
    await page.waitForSelector('#act-view span', { state: 'attached' });
    assert.equal(await page.locator('#act-view span').count(), 300 + 1); // the default prime (a newline) and the sample
    assert.equal(await page.textContent('#act-what'), 'Layer 1, cell 0: the hidden state h of a GRU, over 301 characters.');
    await page.selectOption('#act-pattern', 'linestart');
    await page.click('#act-find');
    await page.waitForSelector('#act-found button');
    assert.ok((await page.locator('#act-found button').count()) >= 1);
    await page.click('#act-found button');
  });

  it('fits a 375 px wide phone screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForTimeout(200);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `the page is ${width} px wide`);
    await page.screenshot({ path: join(root, 'test-results/playground-375.png'), fullPage: false });
    await page.setViewportSize({ width: 1280, height: 1000 });
  });

  it('will not start a cosine schedule without a time limit, and says so', async () => {
    await page.check('input[name=source][value=paste]');
    await page.fill('#paste', 'the cat sat on the mat. '.repeat(200));
    await page.selectOption('#schedule', 'cosine');
    await page.fill('#minutes', '0');
    await page.click('#start');
    await page.waitForSelector('#text-status.error');
    assert.match(
      (await page.textContent('#text-status')) ?? '',
      /^the cosine schedule decays over the whole run, so it needs a time limit: set Minutes above 0/,
    );
    assert.equal(await page.isDisabled('#start'), false, 'nothing started');
    await page.fill('#minutes', '10');
  });

  it("says why a binary file cannot be learned, in the CLI's words", async () => {
    await page.check('input[name=source][value=file]');
    await page.setInputFiles('#text-file', { name: 'image.png', mimeType: 'image/png', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]) });
    await page.click('#start');
    await page.waitForSelector('#text-status.error');
    assert.equal(await page.textContent('#text-status'), "'image.png' is not a text file (it contains NUL bytes); give a UTF-8 text file");
  });

  it('refuses a checkpoint that claims 10^9 hidden units with one sentence, before building anything', async () => {
    const bytes = readFileSync(join(dir, 'cli.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    const meta = JSON.parse(header.__metadata__.recur);
    meta.config.hidden = 1e9;
    header.__metadata__.recur = JSON.stringify(meta);
    delete header.__metadata__.recur_crc32; // a hostile file need not carry a checksum: the size caps must hold without one
    const head = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(head.length));
    await page.setInputFiles('#load', {
      name: 'huge.safetensors',
      mimeType: 'application/octet-stream',
      buffer: Buffer.concat([len, head, bytes.subarray(8 + n)]),
    });
    await page.waitForSelector('#model-info.error', { timeout: 30000 });
    assert.equal(
      await page.textContent('#model-info'),
      "'huge.safetensors' does not match its own model description: hidden must be a whole number from 1 to 65,536, got 1000000000",
    );
    // the page still works: the model loaded before is still there to sample
    await page.click('#sample');
    await page.waitForSelector('#sample-out[data-done]', { timeout: 30000 });
  });

  it('refuses a checkpoint with a changed byte in a tensor, naming the tensor', async () => {
    const bytes = Buffer.from(readFileSync(join(dir, 'cli.safetensors')));
    const n = Number(bytes.readBigUInt64LE(0));
    const [begin] = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))['head.bias'].data_offsets;
    bytes[8 + n + begin] ^= 0x40;
    await page.setInputFiles('#load', { name: 'bad.safetensors', mimeType: 'application/octet-stream', buffer: bytes });
    await page.waitForFunction(() => document.querySelector('#model-info')?.textContent?.includes('bad.safetensors'), undefined, { timeout: 30000 });
    assert.equal(await page.textContent('#model-info'), "'bad.safetensors' is damaged: tensor 'head.bias' fails its checksum");
  });

  it('reads a CRLF file as the CLI does: line ends as LF, said in the text status line', async () => {
    const text = readFileSync(join(root, 'data/tinyshakespeare.txt'), 'utf8').slice(0, 20000);
    await page.check('input[name=source][value=file]');
    await page.setInputFiles('#text-file', { name: 'dos.txt', mimeType: 'text/plain', buffer: Buffer.from('\ufeff' + text.replace(/\n/g, '\r\n')) });
    await page.click('#start');
    await page.waitForFunction(() => document.getElementById('text-status')?.textContent?.startsWith('Training on'), undefined, { timeout: 30000 });
    // the same count and vocabulary as the LF text: no '\r' among the characters
    const vocabSize = new Set(text).size;
    assert.equal(
      await page.textContent('#text-status'),
      `Training on 20,000 characters, vocabulary ${vocabSize}. 'dos.txt' has Windows line ends (CRLF); read as LF.`,
    );
    await page.click('#stop');
    await page.waitForSelector('body[data-phase=idle]', { timeout: 60000 });
  });

  // the first kind without a W_hh: its layers run a scan, in training and in the page's stepper
  const scanKind = CELL_KIND_NAMES.find((k) => CELL_KINDS[k].scan)!;
  const spec = CELL_KINDS[scanKind];

  /** A fresh page set to train `scanKind` on pasted Shakespeare with these fields (and the block form if asked). */
  async function setUpTraining(fields: [string, string][], blocks: boolean): Promise<void> {
    await page.goto(url);
    await page.waitForSelector('body[data-threads]', { timeout: 30000 });
    await page.check('input[name=source][value=paste]');
    await page.fill('#paste', readFileSync(join(root, 'data/tinyshakespeare.txt'), 'utf8').slice(0, 20000));
    await page.selectOption('#model', scanKind);
    if (blocks) await page.check('#blocks');
    for (const [id, v] of fields) await page.fill(`#${id}`, v);
  }
  /** Start, wait until the training loss is below 0.8 x the first (with a validation figure shown), stop. */
  async function trainUntilLossFalls(): Promise<void> {
    await page.click('#start');
    await page.waitForFunction(
      () => {
        const d = (document.getElementById('stats') as HTMLElement).dataset;
        return d.firstLoss !== undefined && d.valLoss !== undefined && Number(d.loss) < 0.8 * Number(d.firstLoss);
      },
      undefined,
      { timeout: 120000 },
    );
    await page.waitForSelector('#train-samples figure pre', { timeout: 60000 });
    await page.click('#stop');
    await page.waitForSelector('body[data-phase=idle]', { timeout: 30000 });
  }
  /** The page's seeded sample ('First', seed 5, 200 characters). */
  async function samplePage(): Promise<string> {
    await page.fill('#prime', 'First');
    await page.fill('#sample-seed', '5');
    await page.fill('#length', '200');
    await page.click('#sample');
    await page.waitForSelector('#sample-out[data-done]', { timeout: 30000 });
    return (await page.textContent('#sample-out')) ?? '';
  }
  /** Save the page's model to `ck` and check that `recur sample` gives `text` from it with the same prime and seed. */
  async function saveAndCompareWithCli(ck: string, text: string): Promise<void> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    await download.saveAs(ck);
    const cli = spawnSync(process.execPath, [join(root, 'bin/recur.js'), 'sample', ck, '--prime', 'First', '--seed', '5', '--length', '200'], {
      encoding: 'utf8',
    });
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal(text, cli.stdout.replace(/\n$/, ''));
  }
  /** The cell view of the second layer (or block) over the last sample: the line that says what it colours. */
  async function cellViewOfLayer2(): Promise<string> {
    await page.selectOption('#act-source', 'sample');
    await page.selectOption('#act-layer', { value: '1' }); // the second layer (its label is '2')
    await page.click('#act-show');
    await page.waitForSelector('#act-view span', { state: 'attached' });
    assert.equal(await page.locator('#act-view span').count(), 'First'.length + 200);
    return (await page.textContent('#act-what')) ?? '';
  }
  const smallRun: [string, string][] = [
    ['layers', '2'],
    ['hidden', '32'],
    ['batch', '16'],
    ['seq', '32'],
    ['eval-every', '20'],
    ['sample-every', '20'],
    ['lr', '0.01'],
  ];

  it(`trains ${spec.article} until the loss falls, samples as \`recur sample\` does, saves, loads, and colours by h`, async () => {
    await setUpTraining([...smallRun, ['embed', '16']], false);
    await trainUntilLossFalls();
    assert.match((await page.textContent('#model-info')) ?? '', new RegExp(`^2 x 32 ${spec.name}, embedding 16, `));
    const trained = await samplePage();
    const ck = join(dir, `${scanKind}.safetensors`);
    await saveAndCompareWithCli(ck, trained);

    await page.reload();
    await page.waitForSelector('body[data-threads]', { timeout: 30000 });
    await page.setInputFiles('#load', ck);
    await page.waitForFunction(() => /^Loaded /.test(document.getElementById('model-info')?.textContent ?? ''), undefined, { timeout: 30000 });
    assert.match((await page.textContent('#model-info')) ?? '', new RegExp(`^Loaded ${scanKind}\\.safetensors: 2 x 32 ${spec.name}, embedding 16`));
    assert.equal(await samplePage(), trained);
    assert.equal(await cellViewOfLayer2(), `Layer 2, cell 0: the hidden state h of ${spec.article}, over 205 characters.`);
    await page.fill('#prime', '');
  });

  it(`trains the block form (${spec.name} blocks) until the loss falls, samples as \`recur sample\` does, and names blocks in the cell view`, async () => {
    await setUpTraining(smallRun, true);
    // the embedding follows the width, as the block form requires
    assert.equal(await page.isDisabled('#embed'), true);
    assert.equal(await page.inputValue('#embed'), '32');
    await trainUntilLossFalls();
    assert.match((await page.textContent('#model-info')) ?? '', new RegExp(`^2 blocks x 32 ${spec.name} \\(RMSNorm, GELU FFN 128\\), `));
    await saveAndCompareWithCli(join(dir, `${scanKind}-blocks.safetensors`), await samplePage());
    assert.equal(await cellViewOfLayer2(), `Block 2, cell 0: the hidden state h of ${spec.article}, over 205 characters.`);
    await page.fill('#prime', '');
    await page.uncheck('#blocks');
    assert.equal(await page.isDisabled('#embed'), false);
  });

  it('logged no errors in the page or its workers', () => {
    assert.deepEqual(errors, []);
  });
});
