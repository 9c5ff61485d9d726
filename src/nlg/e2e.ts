/**
 * The E2E NLG dataset format: a CSV file with a header naming an `mr` column (the meaning
 * representation, e.g. `name[The Eagle], eatType[coffee shop]`) and a `ref` column (one human
 * reference text), one row per reference. Rows with the same MR are grouped, in order of the MR's
 * first appearance (the official scorer groups consecutive rows; on files whose equal MRs are
 * adjacent, as in the released sets, the two agree).
 */
import { CsvError, parseCsv } from './csv.js';
import { decodeUtf8 } from './utf8.js';

/** One meaning representation with its references. */
export interface E2EInstance {
  mr: string;
  refs: string[];
  /** 1-based line of the first row holding this MR. */
  line: number;
}

export interface E2EReadOptions {
  /** Names the input in errors (default 'E2E CSV'). */
  source?: string;
  /**
   * Require a `ref` column (default true). Without one (a test-set file of MRs only) every
   * instance has `refs: []`.
   */
  requireRefs?: boolean;
}

/**
 * Reads an E2E CSV (bytes are decoded as strict UTF-8). Errors name the line and the fix: an empty
 * file, a header without `mr` or `ref`, a row with the wrong number of fields, an empty MR or
 * reference, quoting errors, invalid UTF-8.
 */
export function readE2E(input: string | Uint8Array, opts: E2EReadOptions = {}): E2EInstance[] {
  const source = opts.source ?? 'E2E CSV';
  const requireRefs = opts.requireRefs ?? true;
  const text = typeof input === 'string' ? input : decodeUtf8(input, source);
  let records;
  try {
    records = parseCsv(text, source);
  } catch (err) {
    if (err instanceof CsvError) throw new Error(err.message);
    throw err;
  }
  if (records.length === 0) {
    throw new Error(`${source}: the file is empty; an E2E file starts with the header line "mr,ref" followed by one row per reference`);
  }
  const header = records[0]!;
  const names = header.fields.map((f) => f.trim().toLowerCase());
  const mrCol = names.indexOf('mr');
  const refCol = names.indexOf('ref');
  if (mrCol < 0 || (requireRefs && refCol < 0)) {
    const missing = [mrCol < 0 ? 'mr' : '', requireRefs && refCol < 0 ? 'ref' : ''].filter(Boolean).join(' and ');
    throw new Error(
      `${source}: line ${header.line}: the header ${JSON.stringify(header.fields.join(','))} has no ${missing} column; ` +
        'the first line must name the columns, e.g. "mr,ref"',
    );
  }
  if (records.length === 1) throw new Error(`${source}: the file has a header but no rows; add one "mr,ref" row per reference`);
  const byMr = new Map<string, E2EInstance>();
  for (const rec of records.slice(1)) {
    if (rec.fields.length !== header.fields.length) {
      throw new Error(
        `${source}: line ${rec.line} has ${rec.fields.length} field(s) but the header has ${header.fields.length}; ` +
          'quote any field that contains a comma ("like, this")',
      );
    }
    const mr = rec.fields[mrCol]!.trim();
    if (mr === '') throw new Error(`${source}: line ${rec.line} has an empty mr; every row needs its meaning representation`);
    let inst = byMr.get(mr);
    if (!inst) {
      inst = { mr, refs: [], line: rec.line };
      byMr.set(mr, inst);
    }
    if (refCol >= 0) {
      const ref = rec.fields[refCol]!.trim();
      if (ref === '') throw new Error(`${source}: line ${rec.line} has an empty ref; remove the row or write the reference text`);
      inst.refs.push(ref);
    }
  }
  return [...byMr.values()];
}
