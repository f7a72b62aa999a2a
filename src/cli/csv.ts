/** Reading one numeric column of a CSV file (header row first) for `recur forecast`. */
import { UserError } from './errors.js';

/** Split one CSV line into fields (`sep`, a comma by default; double-quoted fields may hold it and "" for a quote). */
export function splitCsvLine(line: string, sep = ','): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === sep) {
      out.push(field.trim());
      field = '';
    } else {
      field += c;
    }
  }
  out.push(field.trim());
  return out;
}

/**
 * The values of `column` (or of the only column when none is named). Every
 * problem is a UserError naming the file, the row and the value.
 */
/** Separators recur tells apart on its own: comma, semicolon (spreadsheets with decimal commas), tab. */
export const CSV_SEPARATORS = [',', ';', '\t'] as const;

/** The separator of a header row: the one of CSV_SEPARATORS it splits into most fields (a comma when none). */
export function detectSeparator(headerLine: string): string {
  let best = ',',
    most = 1;
  for (const sep of CSV_SEPARATORS) {
    const n = splitCsvLine(headerLine, sep).length;
    if (n > most) [best, most] = [sep, n];
  }
  return best;
}

const showSep = (sep: string): string => (sep === '\t' ? 'tab' : `'${sep}'`);

export function readCsvColumn(text: string, file: string, column?: string, sepOption?: string): { name: string; values: Float64Array } {
  const lines = text
    .split(/\r?\n/)
    .map((l, i) => ({ l, row: i + 1 }))
    .filter((x) => x.l.trim() !== '');
  if (lines.length === 0) throw new UserError(`'${file}' is empty: give a CSV file with a header row and numbers under it`);
  const sep = sepOption ?? detectSeparator(lines[0].l);
  // an empty header cell still needs a name to be chosen by and written out under
  const header = splitCsvLine(lines[0].l, sep).map((h, i) => h || `column_${i + 1}`);
  let col: number;
  if (column === undefined) {
    if (header.length !== 1)
      throw new UserError(`'${file}' has ${header.length} columns separated by ${showSep(sep)} (${header.join(', ')}); choose one with --column`);
    col = 0;
  } else {
    col = header.indexOf(column);
    if (col < 0) {
      const hint = sepOption === undefined ? ' (if its columns are separated by something else, give it with --sep)' : '';
      throw new UserError(
        `'${file}' has no column '${column}'; its columns, separated by ${showSep(sep)}, are ${header.map((h) => `'${h}'`).join(', ')}${hint}`,
      );
    }
  }
  const name = header[col];
  if (lines.length === 1) throw new UserError(`'${file}' has a header row but no values under it`);
  const values = new Float64Array(lines.length - 1);
  for (let i = 1; i < lines.length; i++) {
    const fields = splitCsvLine(lines[i].l, sep);
    const v = fields[col];
    if (v === undefined || v === '') throw new UserError(`line ${lines[i].row} of '${file}' has no value in column '${name}'`);
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UserError(`line ${lines[i].row} of '${file}' has '${v}' in column '${name}', which is not a number`);
    values[i - 1] = n;
  }
  return { name, values };
}
