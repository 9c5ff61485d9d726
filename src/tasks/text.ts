/**
 * Task files as text: strict UTF-8 decoding and the error type of every problem found in a task
 * file's contents. A file in another encoding (Latin-1, Windows-1252) would otherwise decode to
 * U+FFFD replacement characters and be trained on; instead it is refused, naming the line.
 */

/**
 * A problem with the contents of a task file (encoding, emptiness, layout, a row or a label). The
 * message starts with the file (and line, when one is at fault) and says what to change.
 */
export class TaskFileError extends Error {
  override name = 'TaskFileError';
}

/**
 * Byte offset of the first byte of the first invalid UTF-8 sequence in `bytes`, or -1 when all of
 * it is valid UTF-8. Invalid: stray continuation bytes, C0/C1 and F5-FF lead bytes, overlong forms,
 * UTF-16 surrogates (U+D800-U+DFFF), code points above U+10FFFF and sequences cut short.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    // Allowed range of the second byte; the later ones are always 0x80-0xBF.
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // below: overlong
      if (b === 0xed) hi = 0x9f; // above: surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // below: overlong
      if (b === 0xf4) hi = 0x8f; // above: beyond U+10FFFF
    } else return i;
    // A sequence cut short by the end of the file reads as -1 there, which no range admits.
    for (let k = 1; k <= need; k++) {
      const c = i + k < n ? bytes[i + k] : -1;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

const strict = new TextDecoder('utf-8', { fatal: true });
const lossy = new TextDecoder('utf-8');

/**
 * The text of a task file, decoded as UTF-8 (a byte-order mark is dropped). Throws TaskFileError
 * naming `file` when the bytes are not UTF-8 (with the line, the byte and how to convert the file)
 * or when the file is empty or holds only blank lines.
 */
export function decodeTaskText(bytes: Uint8Array, file: string): string {
  if (bytes.length === 0) throw new TaskFileError(`${file}: the file is empty (0 bytes); a task file holds labelled examples, one per line`);
  let text: string;
  try {
    text = strict.decode(bytes);
  } catch {
    throw new TaskFileError(invalidUtf8Message(bytes, file));
  }
  if (text.trim() === '') {
    throw new TaskFileError(`${file}: the file is empty (${bytes.length} bytes of blank lines and spaces); a task file holds labelled examples, one per line`);
  }
  return text;
}

function invalidUtf8Message(bytes: Uint8Array, file: string): string {
  const at = firstInvalidUtf8(bytes);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  let lineEnd = bytes.indexOf(0x0a, at);
  if (lineEnd < 0) lineEnd = bytes.length;
  const shown = lossy.decode(bytes.subarray(lineStart, Math.min(lineEnd, lineStart + 200))).replace(/\r$/, '');
  const preview = shown.length > 60 ? `${shown.slice(0, 57)}...` : shown;
  const hex = bytes[at].toString(16).toUpperCase().padStart(2, '0');
  return (
    `${file} line ${line}: not valid UTF-8 (byte 0x${hex} at column ${at - lineStart + 1}: ${JSON.stringify(preview)}); ` +
    'task files must be UTF-8 text. Convert the file from its encoding, e.g. from Latin-1: ' +
    `iconv -f latin1 -t utf-8 ${shellQuote(file)} > converted.tsv (\`file -i\` guesses the encoding; Windows files are often windows-1252)`
  );
}

/** `s` as one shell word (single-quoted unless it is plainly safe), for commands shown in messages. */
function shellQuote(s: string): string {
  return /^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
