/** Option parsers for commander that reject bad values with a sentence naming the option. */
import { InvalidArgumentError } from 'commander';

export const int = (min: number) => (v: string): number => {
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number of at least ${min}.`);
  return n;
};

export const num = (check: (n: number) => boolean, what: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`expected ${what}.`);
  return n;
};

export const choice = <T extends string>(...values: T[]) => (v: string): T => {
  if (!values.includes(v as T)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}.`);
  return v as T;
};
