/**
 * The op codes that select a kernel's operation, defined once for both
 * compilers: src/backend/wasm/index.ts passes them, assembly/kernels.ts
 * imports this file and switches on them. AssemblyScript compiles it too, so
 * it keeps to what both languages accept: namespaces of integer constants
 * (AssemblyScript has no object literals as maps and no `as const`). Names
 * are those of the TypeScript op types (UnaryOp, BinaryOp, RecurrentKind, ScanKind);
 * ops without a wasm kernel have no code.
 */

/** `unary(op, ...)`: the UnaryOps with a wasm kernel (log runs on the js fallback). */
export namespace UNARY {
  export const neg = 0;
  export const exp = 1;
  export const tanh = 2;
  export const sigmoid = 3;
  export const relu = 4;
  export const abs = 5;
  export const square = 6;
  export const sqrt = 7;
}

/** `binarySame(op, ...)`: elementwise on two contiguous arrays of one length. */
export namespace BINARY {
  export const add = 0;
  export const sub = 1;
  export const mul = 2;
  export const div = 3;
}

/** `recurrentStep(kind, ...)` and `recurrentStepGrad(kind, ...)`: every RecurrentKind. */
export namespace RECURRENT {
  export const lstm = 0;
  export const gru = 1;
  export const rnn_tanh = 2;
  export const rnn_relu = 3;
  export const rnn_sigmoid = 4;
}

/** `scan(kind, ...)` and `scanGrad(kind, ...)`: every ScanKind. */
export namespace SCAN {
  export const mingru = 0;
  export const minlstm = 1;
}
