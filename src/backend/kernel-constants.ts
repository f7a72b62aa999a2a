/**
 * Numeric constants the kernels of both backends share, defined once for
 * both compilers like the op codes (opcodes.ts): namespaces of literals,
 * which AssemblyScript accepts as constants.
 */
/**
 * GELU's tanh approximation, gelu(x) = 0.5 x (1 + tanh(C (x + A x³))) with C = √(2/π)
 * (PyTorch's `approximate='tanh'`): the kernels of both backends and the ONNX
 * exporter read these. Literals, as AssemblyScript wants constants.
 */
export namespace GELU_TANH {
  export const C = 0.7978845608028654;
  export const A = 0.044715;
}
