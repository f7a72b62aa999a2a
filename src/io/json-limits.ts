/**
 * JSON from files recur may not have written (a downloaded checkpoint, a
 * vocabulary file): a size cap and a nesting cap, both checked before
 * JSON.parse builds anything. V8 parses any depth, but code that walks the
 * result recursively (structuredClone to a worker, JSON.stringify, our own
 * checks) overflows the stack on a file of a million '['.
 */

/** The longest JSON text recur parses from a file: 100 MiB, far above any real header or vocabulary. */
export const MAX_JSON_BYTES = 100 * 2 ** 20;
/** The deepest nesting recur accepts; its own files nest at most 4 levels. */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0,
    max = 0,
    inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * JSON.parse with the caps. Throws one sentence: "<what> is ..."; `bytes` is
 * the encoded length when the caller knows it (a UTF-16 length otherwise).
 */
export function parseJsonLimited(text: string, what: string, bytes = text.length): unknown {
  if (bytes > MAX_JSON_BYTES) {
    throw new Error(`${what} is ${bytes.toLocaleString('en-US')} bytes of JSON, more than the ${MAX_JSON_BYTES.toLocaleString('en-US')} recur reads`);
  }
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) throw new Error(`${what} nests ${depth} levels deep, more than the ${MAX_JSON_DEPTH} recur reads`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}
