/**
 * The shape of the package's entry points: the user API at the root, the
 * machinery in recur-rnn/internal (never both), the Node and browser entries
 * as the root plus their threads, and the renamed language-model names still
 * answering to their old ones for a release.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as root from '../src/index.js';
import * as internal from '../src/internal.js';
import * as browser from '../src/browser.js';
import * as node from '../src/node.js';
import { LanguageModel, LMStepper, Vocab, defaultLMConfig, type LanguageModelConfig } from '../src/index.js';

describe('entry points', () => {
  it('nothing is exported both from the root and from recur-rnn/internal', () => {
    const both = Object.keys(internal).filter((k) => k in root);
    assert.deepEqual(both, []);
  });

  it('the root keeps out the machinery and browser-only code', () => {
    for (const k of ['StorageRef', 'record', 'registerBackend', 'createWasmBackend', 'setThreadSpawner', 'trainStep', 'fusedCell', 'useWebWorkerThreads']) {
      assert.ok(!(k in root), k);
    }
  });

  it('the Node entry is the root; the browser entry is the root plus Web Worker threads', () => {
    assert.deepEqual(Object.keys(node).sort(), Object.keys(root).sort());
    const extra = Object.keys(browser).filter((k) => !(k in root));
    assert.deepEqual(extra.sort(), ['threadsReady', 'useWebWorkerThreads']);
    for (const k of Object.keys(root)) assert.equal((browser as Record<string, unknown>)[k], (root as Record<string, unknown>)[k], k);
  });

  it('threadsReady resolves at once for a backend without threads', async () => {
    await browser.threadsReady(internal.backendByName('js'));
  });
});

describe('deprecated names', () => {
  it('each old name is the same object as its new one', () => {
    assert.equal(root.CharLM, root.LanguageModel);
    assert.equal(root.trainCharLM, root.trainLM);
    assert.equal(root.defaultCharLMConfig, root.defaultLMConfig);
    assert.equal(root.checkCharLMConfig, root.checkLMConfig);
    assert.equal(root.CharStepper, root.LMStepper);
  });

  it('code written against the old names still compiles and runs', () => {
    const config: root.CharLMConfig = { ...root.defaultCharLMConfig, vocabSize: 3, layers: 1, hidden: 4, embed: 2 };
    const model: root.CharLM = new root.CharLM(config);
    assert.ok(model instanceof LanguageModel);
    const fresh: LanguageModelConfig = { ...defaultLMConfig, vocabSize: 3 };
    assert.ok(new LanguageModel(fresh) instanceof root.CharLM);
    const stepper: root.CharStepper = new root.CharStepper(model);
    assert.ok(stepper instanceof LMStepper);
    assert.equal(stepper.step(0).length, 3);
    stepper.dispose();
    assert.equal(new Vocab(['a', 'b', 'c']).size, model.config.vocabSize);
  });
});
