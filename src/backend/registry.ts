/** Which backend new tensors are made on. One current backend at a time. */
import type { Backend } from './backend.js';
import { createJsBackend } from './js/index.js';
import { createWasmBackend } from './wasm/index.js';
import { wasmSimdSupported } from './wasm/kernels.js';

const factories = new Map<string, () => Backend>();
const instances = new Map<string, Backend>();
let current: Backend | null = null;

export function registerBackend(name: string, factory: () => Backend): void {
  factories.set(name, factory);
  instances.delete(name);
}

registerBackend('js', () => createJsBackend('f32'));
registerBackend('js-f64', () => createJsBackend('f64'));
registerBackend('wasm', () => createWasmBackend());

/** The names `setBackend` and `withBackend` accept: 'js', 'js-f64' and 'wasm' (and any registered since). */
export function availableBackends(): string[] {
  return [...factories.keys()];
}

/** The backend registered under `name` (created once, then shared). */
export function backendByName(name: string): Backend {
  let b = instances.get(name);
  if (!b) {
    const f = factories.get(name);
    if (!f) throw new Error(`unknown backend '${name}': choose one of ${availableBackends().join(', ')}`);
    b = f();
    instances.set(name, b);
  }
  return b;
}

function defaultBackendName(): string {
  // Read without importing anything Node-specific, so this also runs in a browser.
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.RECUR_BACKEND) return env.RECUR_BACKEND;
  return wasmLoads() ? 'wasm' : 'js';
}

let wasmOk: boolean | null = null;
/**
 * Whether the WebAssembly backend can run here (SIMD is the requirement); checked once.
 * Only support is probed: a mistake such as a bad RECUR_THREADS still surfaces as an error.
 */
export function wasmLoads(): boolean {
  if (wasmOk === null) wasmOk = wasmSimdSupported();
  return wasmOk;
}

/**
 * The backend new tensors go to: the one last set, else 'wasm' where
 * WebAssembly SIMD runs and 'js' elsewhere (the RECUR_BACKEND environment
 * variable overrides the choice). Its `name` says which.
 */
export function getBackend(): Backend {
  if (!current) current = backendByName(defaultBackendName());
  return current;
}

/**
 * Make `backend` (or the one registered under that name) current for new
 * tensors; returns it. Tensors already made stay where they are (see
 * `toBackend`).
 *
 * @example
 * ```ts
 * setBackend('js');
 * withBackend('js-f64', () => tensor([1, 2]).sum().item()); // in double precision, then back to js
 * ```
 */
export function setBackend(backend: string | Backend): Backend {
  current = typeof backend === 'string' ? backendByName(backend) : backend;
  return current;
}

/** Run `fn` with another backend current, restoring the previous one afterwards. */
export function withBackend<T>(backend: string | Backend, fn: () => T): T {
  const prev = getBackend();
  setBackend(backend);
  try {
    return fn();
  } finally {
    current = prev;
  }
}
