import { createJsBackend } from '../src/backend/js/index.js';
import { runBackendConformance } from './backend-conformance.js';

runBackendConformance('js (float32)', () => createJsBackend('f32'));
runBackendConformance('js-f64', () => createJsBackend('f64'));
