/**
 * The benchmark workloads: char-level LMs on tinyshakespeare (vocab 65).
 * W1 and W2 are the standard shapes (batch 32 x seq 64); L1 is the long-sequence shape
 * the modern recurrences are measured at (1 x 256, batch 8 x seq 512), with
 * embed = hidden / 2 as in W1. The cell kind is bench/charlm.ts's --model.
 */
export interface Workload {
  layers: number;
  hidden: number;
  embed: number;
  batch: number;
  seq: number;
  /** Characters generated for the batch-1 sampling figure. */
  sampleChars: number;
}

export const WORKLOADS: Record<string, Workload> = {
  W1: { layers: 1, hidden: 128, embed: 64, batch: 32, seq: 64, sampleChars: 10000 },
  W2: { layers: 2, hidden: 512, embed: 128, batch: 32, seq: 64, sampleChars: 1000 },
  L1: { layers: 1, hidden: 256, embed: 128, batch: 8, seq: 512, sampleChars: 5000 },
};

/** A workload's shape in words, for headings: "1 x 128, embed 64; batch 32 x seq 64". */
export function describeWorkload(w: Workload): string {
  return `${w.layers} x ${w.hidden}, embed ${w.embed}; batch ${w.batch} x seq ${w.seq}`;
}
