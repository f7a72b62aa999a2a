/** Option parsers for commander that reject bad values with a sentence naming the option. */
import { InvalidArgumentError } from 'commander';

/**
 * A whole number in [min, max]. Written as digits or in scientific notation
 * (1e3), as --lr accepts it: what matters is the value, so 1e9 is refused
 * for being too big, not for how it is written.
 */
export const int =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (v: string): number => {
    const n = Number(v);
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max.toLocaleString('en-US')}`;
    if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a whole number ${range}, like ${Math.max(min, 2)}.`);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`expected a whole number ${range}; ${v} has a fraction.`);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number ${range}.`);
    return n;
  };

export const num =
  (check: (n: number) => boolean, what: string) =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`expected ${what}.`);
    return n;
  };

export const choice =
  <T extends string>(...values: T[]) =>
  (v: string): T => {
    if (!values.includes(v as T)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}.`);
    return v as T;
  };
