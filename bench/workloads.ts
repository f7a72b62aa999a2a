/** The benchmark workloads of issue 6: char-level LSTM LMs on tinyshakespeare (vocab 65), batch 32 x seq 64. */
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
};
