/**
 * Reader for ETT-style CSV files: a header row, a date column and numeric columns, one row per time
 * step (`date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT`). Any CSV of that shape works. Cells are plain
 * (no quoting); every problem is reported with its line number (the header is line 1) and column name.
 */

/** A table of series: column-major values, one Float64Array per numeric column. */
export interface SeriesTable {
  /** Where the table came from, used in error messages (a path, or a short description). */
  source: string;
  /** The date column's cells, as written. */
  dates: string[];
  /** Names of the numeric columns, in file order (the date column excluded). */
  columns: string[];
  /** values[c][t]: column c at time step t. */
  values: Float64Array[];
  /** The cells of the columns read as text (CsvOptions.textColumns), by name, as written. */
  text?: Record<string, string[]>;
}

export interface CsvOptions {
  /** Name used in errors (default 'CSV'). */
  source?: string;
  /** Name of the date column (default 'date', matched case-insensitively). */
  dateColumn?: string;
  /**
   * Columns kept as text instead of numbers (a series id, a class name); each must exist (the error
   * names it and the columns the file has) and have a value on every row.
   */
  textColumns?: readonly string[];
}

/** Parses an ETT-style CSV; throws on missing or non-numeric cells, ragged rows and a missing date column. */
export function parseSeriesCsv(text: string, opts: CsvOptions = {}): SeriesTable {
  const source = opts.source ?? 'CSV';
  const dateName = (opts.dateColumn ?? 'date').toLowerCase();
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length === 0) throw new Error(`${source}: the file is empty; expected a header row such as date,HUFL,...,OT`);
  const header = lines[0].replace(/^\uFEFF/, '').split(',').map((h) => h.trim());
  const dateIndex = header.findIndex((h) => h.toLowerCase() === dateName);
  if (dateIndex < 0) {
    throw new Error(
      `${source}: line 1 (header) has no '${opts.dateColumn ?? 'date'}' column (columns: ${header.join(', ')}); ` +
        'add a date column or name the one you have with the date-column option',
    );
  }
  header.forEach((h, i) => {
    if (h === '') throw new Error(`${source}: line 1 (header), column ${i + 1} has an empty name; name every column`);
  });
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new Error(`${source}: line 1 (header) names column '${dup}' twice; column names must be unique`);
  const textNames = opts.textColumns ?? [];
  for (const t of textNames) {
    if (!header.includes(t)) throw new Error(`${source}: line 1 (header) has no '${t}' column (columns: ${header.join(', ')}); name the column you have with its option`);
  }
  const isText = header.map((h, i) => i !== dateIndex && textNames.includes(h));
  const columns = header.filter((_, i) => i !== dateIndex && !isText[i]);
  if (columns.length === 0) throw new Error(`${source}: line 1 (header) has no numeric column besides the date${textNames.length ? ` and ${textNames.join(', ')}` : ''}; add at least one`);
  const textCells: Record<string, string[]> = Object.fromEntries(textNames.map((t) => [t, new Array<string>(lines.length - 1)]));
  const rows = lines.length - 1;
  const values = columns.map(() => new Float64Array(rows));
  const dates: string[] = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const lineNo = r + 2;
    const cells = lines[r + 1].split(',');
    if (cells.length !== header.length) {
      throw new Error(`${source}: line ${lineNo} has ${cells.length} cells; the header has ${header.length} (${header.join(',')})`);
    }
    let c = 0;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i].trim();
      if (i === dateIndex) {
        if (cell === '') throw new Error(`${source}: line ${lineNo}, column '${header[i]}': the date is missing`);
        dates[r] = cell;
        continue;
      }
      if (isText[i]) {
        if (cell === '') throw new Error(`${source}: line ${lineNo}, column '${header[i]}': the value is missing`);
        textCells[header[i]][r] = cell;
        continue;
      }
      if (cell === '' || /^(nan|na|null)$/i.test(cell)) {
        throw new Error(`${source}: line ${lineNo}, column '${header[i]}': missing value; fill or drop the row before loading`);
      }
      const v = Number(cell);
      if (!Number.isFinite(v)) {
        throw new Error(`${source}: line ${lineNo}, column '${header[i]}': '${cell}' is not a finite number`);
      }
      values[c++][r] = v;
    }
  }
  return { source, dates, columns, values, ...(textNames.length ? { text: textCells } : {}) };
}
