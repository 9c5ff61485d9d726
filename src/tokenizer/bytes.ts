/**
 * GPT-2's reversible byte <-> unicode map. Byte-level BPE works on UTF-8 bytes, but vocab and merges
 * files store tokens as text, so every byte is given a printable character: printable Latin-1 bytes
 * stand for themselves and the rest (controls, space, ...) are shifted to U+0100 and up. That is why
 * a space shows up as "Ġ" (U+0120) in GPT-2's vocabulary.
 */

function buildByteToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + shifted++);
  return out;
}

/** BYTE_TO_UNICODE[b] is the one-character token text of byte b. */
export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

/** Inverse map indexed by char code (all 256 characters are below U+0144); -1 where there is no byte. */
const UNICODE_TO_BYTE: Int16Array = (() => {
  const t = new Int16Array(0x144).fill(-1);
  BYTE_TO_UNICODE.forEach((ch, b) => (t[ch.charCodeAt(0)] = b));
  return t;
})();

/** The byte a token character stands for, or -1 if the character is not part of the byte alphabet. */
export function unicodeToByte(charCode: number): number {
  return charCode < UNICODE_TO_BYTE.length ? UNICODE_TO_BYTE[charCode]! : -1;
}

/** The 256 byte characters in code-point order: the order GPT-2 gives them ids 0..255. */
export function byteAlphabet(): string[] {
  return [...BYTE_TO_UNICODE].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
}

/**
 * UTF-8 bytes of a string, appended to `out` (cleared first). Written by hand because it runs once
 * per distinct pre-token and TextEncoder's per-call cost dominates for short strings. Lone surrogates
 * become U+FFFD, exactly as TextEncoder (and so the reference encoder) does.
 */
export function utf8Bytes(s: string, out: number[] = []): number[] {
  out.length = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out.push(c);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return out;
}

/** Text -> byte-level token text (each UTF-8 byte replaced by its character). */
export function toByteLevel(s: string): string {
  let r = '';
  for (const b of utf8Bytes(s)) r += BYTE_TO_UNICODE[b];
  return r;
}
