/**
 * Tab-separated text split into rows of fields, the common layer under the GLUE readers.
 *
 * Quoting: GLUE files come in two flavours. The copies written with pandas/csv quote a field that
 * contains a quote: the field is wrapped in double quotes and inner quotes are doubled (`"say ""hi"""`).
 * The original GLUE release writes fields verbatim (quotes included, no escaping). One rule reads both:
 * a field is unquoted only when it is wholly wrapped in quotes and every inner quote is doubled;
 * anything else is kept as written. Rows are lines: a quoted field cannot span lines (none does in GLUE).
 */

export interface TsvRow {
  /** 1-based line number in the file, for error messages. */
  line: number;
  fields: string[];
}

// Inside the wrapping quotes, only doubled quotes may appear.
const QUOTED_BODY = /^(?:[^"]|"")*$/;

/** The value of one raw field under the quoting rule above. */
export function unquoteField(raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    const body = raw.slice(1, -1);
    if (QUOTED_BODY.test(body)) return body.replaceAll('""', '"');
  }
  return raw;
}

/**
 * The non-empty lines of `text` as fields. A UTF-8 byte-order mark and Windows line endings are
 * removed; lines holding only whitespace are skipped (trailing blank lines are common).
 */
export function tsvRows(text: string): TsvRow[] {
  const body = text.startsWith('\ufeff') ? text.slice(1) : text;
  const rows: TsvRow[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line.trim() === '') continue;
    rows.push({ line: i + 1, fields: line.split('\t').map(unquoteField) });
  }
  return rows;
}
