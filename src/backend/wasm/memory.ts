/**
 * The WebAssembly backend's heap: one linear memory, carved up from here in
 * JavaScript (the kernels never allocate). Blocks come in size classes a
 * quarter-octave apart and freed blocks go on a free list per class, so a
 * training loop that frees and allocates the same shapes every step reuses
 * the same addresses and its memory stays flat.
 */

const ALIGN = 64; // bytes: a cache line, and more than v128 needs
const PAGE = 65536;

/** Round a byte count up to its size class. */
export function sizeClass(bytes: number): number {
  if (bytes <= 256) return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const quarter = octave / 4;
  return Math.ceil(bytes / quarter) * quarter;
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  /** Bumped whenever the memory grows, so cached typed-array views know to refresh. */
  version = 0;
  private buffer: ArrayBuffer | SharedArrayBuffer;
  private top: number;
  private readonly free = new Map<number, number[]>();

  constructor(memory: WebAssembly.Memory, shared: boolean, base: number) {
    this.memory = memory;
    this.shared = shared;
    this.buffer = memory.buffer;
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  get bytes(): ArrayBuffer | SharedArrayBuffer {
    // a shared memory grown by another thread shows its new size only through a fresh .buffer
    if (this.buffer.byteLength !== this.memory.buffer.byteLength) this.refresh();
    return this.buffer;
  }

  /** High-water mark of the heap in bytes. */
  get reserved(): number {
    return this.top;
  }

  private refresh(): void {
    this.buffer = this.memory.buffer;
    this.version++;
  }

  /** A block of at least `bytes` bytes (not zeroed), aligned to 64. */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    if (list && list.length > 0) return list.pop()!;
    const ptr = this.top;
    const end = ptr + size;
    if (end > this.memory.buffer.byteLength) {
      const have = this.memory.buffer.byteLength;
      // grow by at least a quarter of what we have, so big runs grow a few times, not thousands
      const want = Math.max(Math.ceil((end - have) / PAGE), Math.ceil(have / PAGE / 4));
      try {
        this.memory.grow(want);
      } catch {
        throw new Error(`wasm backend: out of memory (asked for ${bytes} more bytes with ${have} in use); use smaller batches or models, or RECUR_BACKEND=js`);
      }
      this.refresh();
    }
    this.top = end;
    return ptr;
  }

  release(ptr: number, bytes: number): void {
    const size = sizeClass(bytes);
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.bytes, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.bytes, ptr, length);
  }

  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.bytes, ptr, length);
  }
}
