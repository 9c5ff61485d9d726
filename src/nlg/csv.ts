/**
 * RFC 4180 comma-separated values: records of fields, each record tagged with the line it starts on.
 *
 * A field is either unquoted (no `"`, `,` or line break in it) or wrapped in double quotes, inside
 * which commas and line breaks are data and a quote is written twice (`"say ""hi"""`). Records end
 * at LF or CRLF. Anything else is an error that names the line and column and says how to fix the
 * file: a quote inside an unquoted field, text after a closing quote, a quoted field that never closes.
 * Lines holding nothing at all are skipped (a trailing newline is common).
 */

export interface CsvRecord {
  /** 1-based line number where the record starts. */
  line: number;
  fields: string[];
}

/** A malformed CSV file: `line` and `column` are 1-based. */
export class CsvError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'CsvError';
  }
}

// The longest run of characters that cannot end an unquoted field.
const UNQUOTED = /[^,"\r\n]*/y;

/** Parses CSV text (a leading byte-order mark is ignored). `source` names the input in errors. */
export function parseCsv(text: string, source = 'CSV'): CsvRecord[] {
  const s = text.startsWith('\ufeff') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let line = 1;
  let lineStart = 0; // index of the current line's first character, for columns
  let i = 0;
  const n = s.length;
  const fail = (msg: string, at: number, atLine = line, atLineStart = lineStart): never => {
    throw new CsvError(`${source}: line ${atLine}, column ${at - atLineStart + 1}: ${msg}`, atLine, at - atLineStart + 1);
  };
  while (i < n) {
    const recordLine = line;
    const fields: string[] = [];
    let quotedAny = false;
    for (;;) {
      // one field
      if (s[i] === '"') {
        quotedAny = true;
        const openLine = line;
        const openLineStart = lineStart;
        const openAt = i;
        i++;
        let value = '';
        for (;;) {
          const q = s.indexOf('"', i);
          if (q < 0) {
            fail(
              'a quoted field opened here never closes (unbalanced double quote); close it with " and write any quote inside it as ""',
              openAt, openLine, openLineStart,
            );
          }
          for (let nl = s.indexOf('\n', i); nl >= 0 && nl < q; nl = s.indexOf('\n', nl + 1)) {
            line++;
            lineStart = nl + 1;
          }
          value += s.slice(i, q);
          if (s[q + 1] === '"') {
            value += '"';
            i = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        fields.push(value);
        if (i < n && s[i] !== ',' && s[i] !== '\n' && !(s[i] === '\r' && s[i + 1] === '\n')) {
          fail(
            `unexpected ${JSON.stringify(s[i])} after the closing quote of a field; ` +
              'a quote inside a quoted field must be doubled (""), and a field must end right after its closing quote',
            i,
          );
        }
      } else {
        UNQUOTED.lastIndex = i;
        UNQUOTED.exec(s);
        let j = UNQUOTED.lastIndex; // stops at , " \n or \r
        while (s[j] === '\r' && s[j + 1] !== '\n') {
          UNQUOTED.lastIndex = j + 1; // a lone CR is data
          UNQUOTED.exec(s);
          j = UNQUOTED.lastIndex;
        }
        if (s[j] === '"') {
          fail(
            'stray double quote inside an unquoted field; wrap the whole field in double quotes and double the quotes inside it ("like ""this""")',
            j,
          );
        }
        fields.push(s.slice(i, j));
        i = j;
      }
      // separator
      if (i < n && s[i] === ',') {
        i++;
        continue;
      }
      if (i < n && s[i] === '\r') i++;
      if (i < n && s[i] === '\n') {
        i++;
        line++;
        lineStart = i;
      }
      break;
    }
    if (fields.length === 1 && fields[0] === '' && !quotedAny) continue; // an empty line
    records.push({ line: recordLine, fields });
  }
  return records;
}
