// Lint: typescript-eslint's recommended rules, and the layering rule that
// keeps imports running one way (platform -> train/generate -> models ->
// nn/data -> ops -> tensor -> backend): a file may import its own layer and
// the layers below, never one above.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** Each directory of src/ and the directories it must not import from (every layer above it). */
const LAYERS = [
  ['random', 'backend'],
  ['tensor', 'autograd', 'ops'],
  ['nn', 'optim', 'data', 'text', 'io'],
  ['models'],
  ['train', 'generate', 'export', 'sampler'],
  ['cli', 'node', 'browser'],
];
const zones = LAYERS.slice(0, -1).flatMap((dirs, i) =>
  dirs.map((dir) => ({
    target: `./src/${dir}`,
    from: LAYERS.slice(i + 1)
      .flat()
      .map((d) => `./src/${d}`),
    message: `src/${dir} is below these layers: import from lower layers only (see ARCHITECTURE.md).`,
  })),
);

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'src/backend/wasm/binaries.ts',
      'src/backend/wasm/kernel-exports.ts',
      'test-results/**',
      'assembly/**',
      'bench/wasm/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    // imports name the compiled '.js' files; the TypeScript resolver maps them back to the sources
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.check.json' })] },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `let [i, f, g, o] = ...` where some are reassigned is clearer than splitting the destructuring
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  // AssemblyScript compiles this file too, and namespaces of constants are what both compilers accept
  { files: ['src/backend/opcodes.ts', 'src/backend/kernel-constants.ts'], rules: { '@typescript-eslint/no-namespace': 'off' } },
  // tests edit parsed JSON headers of every shape on purpose
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
