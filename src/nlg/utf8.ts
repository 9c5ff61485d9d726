/** Strict UTF-8 decoding whose error names the line of the first invalid byte. */
import { firstInvalidUtf8 } from '../tasks/text.js';

/** Decodes UTF-8 text; invalid bytes throw an error naming `source`, the line and the byte offset. */
export function decodeUtf8(bytes: Uint8Array, source = 'input'): string {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    let line = 1;
    for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) line++;
    const hex = bytes[bad]!.toString(16).padStart(2, '0');
    throw new Error(
      `${source}: line ${line} is not valid UTF-8 (byte 0x${hex} at offset ${bad}); ` +
        're-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)',
    );
  }
  return new TextDecoder('utf-8').decode(bytes);
}
