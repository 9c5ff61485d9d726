/**
 * Splitting text before BPE. Added (special) tokens are cut out first as whole strings, then the
 * remaining text is split with GPT-2's regex so that merges never cross word, number or punctuation
 * boundaries.
 */

/**
 * GPT-2's split pattern. `\p{L}`/`\p{N}` need the `u` flag, which also makes the regex step over
 * astral characters (emoji) as one unit instead of two surrogate halves.
 */
export const GPT2_SPLIT_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** The pre-tokens of `text`, in order; their concatenation is `text`. */
export function pretokenize(text: string): string[] {
  const out: string[] = [];
  // a fresh lastIndex per call: the pattern object is shared and global
  const re = new RegExp(GPT2_SPLIT_PATTERN);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push(m[0]);
  return out;
}

/** A token that is matched as a whole string in the input and never split or merged. */
export interface AddedToken {
  content: string;
  id: number;
  /** Also swallow whitespace on its left (RoBERTa's `<mask>`: "a <mask>" encodes the space into the mask). */
  lstrip?: boolean;
  /** Also swallow whitespace on its right. */
  rstrip?: boolean;
  /** True for control tokens (`<s>`, `<|endoftext|>`, ...) that decode may skip. Default true. */
  special?: boolean;
}

/** Splits text into plain-text pieces (strings) and added-token ids (numbers), in order. */
export class AddedTokenMatcher {
  private readonly re: RegExp | null;
  private readonly ids: number[];

  constructor(tokens: readonly AddedToken[]) {
    // longest first, so that a token that is a prefix of another never wins the match
    const sorted = [...tokens].sort((a, b) => b.content.length - a.content.length || a.id - b.id);
    for (const t of sorted) if (t.content === '') throw new Error(`added token ${t.id} has empty content`);
    this.ids = sorted.map((t) => t.id);
    this.re = sorted.length
      ? new RegExp(sorted.map((t) => `(${t.lstrip ? '\\s*' : ''}${escapeRegex(t.content)}${t.rstrip ? '\\s*' : ''})`).join('|'), 'g')
      : null;
  }

  split(text: string): (string | number)[] {
    if (!this.re) return text ? [text] : [];
    const out: (string | number)[] = [];
    const re = new RegExp(this.re);
    let last = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m.index > last) out.push(text.slice(last, m.index));
      let g = 1;
      while (m[g] === undefined) g++;
      out.push(this.ids[g - 1]!);
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|\/-]/g, '\\$&');
}
