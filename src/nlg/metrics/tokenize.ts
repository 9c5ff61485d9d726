/**
 * The two tokenisations the E2E challenge's scorer applies before scoring.
 *
 * - BLEU and NIST run through NIST's mteval-v13a script, whose default normalisation lowercases
 *   ASCII letters and splits off punctuation (`mtevalTokenize`).
 * - METEOR, ROUGE-L and CIDEr run through the MS-COCO caption evaluation code, which first runs
 *   the Stanford PTB tokenizer (Java, `-lowerCase`) and then drops punctuation tokens
 *   (`cocoTokenize`). That tokenizer is not available here; `cocoTokenize` implements its rules
 *   that matter for English data-to-text (lowercasing, splitting off punctuation, quotes, brackets,
 *   currency signs and clitics such as n't and 's) and may differ from it on rare inputs.
 */

// mteval-v13a's punctuation class: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
// (apostrophe and hyphen are not in it; period and comma are handled apart).
const MTEVAL_PUNCT = /([\x7b-\x7e\x5b-\x60\x20-\x26\x28-\x2b\x3a-\x40\x2f])/g;

/**
 * mteval-v13a's default tokenisation (not the `--international-tokenization` one), lowercasing as
 * its default does (`-c` keeps case: `preserveCase`). Returns the tokens.
 */
export function mtevalTokenize(text: string, preserveCase = false): string[] {
  let t = text
    .replace(/<skipped>/g, '')
    .replace(/-\n/g, '')
    .replace(/\n/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
  t = ` ${t} `;
  if (!preserveCase) t = t.replace(/[A-Z]/g, (c) => c.toLowerCase());
  t = t
    .replace(MTEVAL_PUNCT, ' $1 ')
    .replace(/([^0-9])([.,])/g, '$1 $2 ') // period and comma unless preceded by a digit
    .replace(/([.,])([^0-9])/g, ' $1 $2') // ... unless followed by a digit
    .replace(/([0-9])(-)/g, '$1 $2 '); // dash after a digit
  const trimmed = t.replace(/\s+/g, ' ').trim();
  return trimmed === '' ? [] : trimmed.split(' ');
}

/** Tokens the COCO evaluation code removes after PTB tokenisation. */
export const COCO_PUNCTUATION: ReadonlySet<string> = new Set([
  "''", "'", '``', '`', '-LRB-', '-RRB-', '-LCB-', '-RCB-', '.', '?', '!', ',', ':', '-', '--', '...', ';',
]);

const CLITICS = /^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$/;
const LEADING = /^(["'`([{<]|\$|£|€|¥)/;
const TRAILING = /(\.\.\.|[.,;:!?"')\]}>]|'')$/;
const BRACKETS: Record<string, string> = { '(': '-LRB-', ')': '-RRB-', '[': '-LSB-', ']': '-RSB-', '{': '-LCB-', '}': '-RCB-' };

function splitWord(word: string, out: string[]): void {
  const tail: string[] = [];
  let w = word;
  for (;;) {
    const m = LEADING.exec(w);
    if (!m || m[0].length === w.length) break;
    out.push(m[0] === '"' ? '``' : BRACKETS[m[0]] ?? m[0]);
    w = w.slice(m[0].length);
  }
  for (;;) {
    const m = TRAILING.exec(w);
    if (!m || m[0].length === w.length) break;
    // a period after a single letter or inside an abbreviation like "u.s." stays with the word
    if (m[0] === '.' && /^([a-z]|([a-z]\.)+[a-z])$/i.test(w.slice(0, -1))) break;
    tail.unshift(m[0] === '"' ? "''" : BRACKETS[m[0]] ?? m[0]);
    w = w.slice(0, -m[0].length);
  }
  const c = CLITICS.exec(w);
  if (c) out.push(c[1]!, c[2]!);
  else out.push(BRACKETS[w] ?? (w === '"' ? '``' : w));
  out.push(...tail);
}

/**
 * PTB-style tokens, lowercased, with the COCO evaluation's punctuation tokens removed: the text the
 * COCO scorers (METEOR, ROUGE-L, CIDEr) see, e.g. `"It's £20-25, isn't it?"` ->
 * `it 's £ 20-25 is n't it`.
 */
export function cocoTokenize(text: string): string[] {
  const out: string[] = [];
  // , ; : ! ? are tokens of their own except between digits (1,000 and 10:30 stay whole)
  const spaced = text.toLowerCase().replace(/(?<![0-9])([,;:!?])|([,;:!?])(?![0-9])/g, ' $1$2 ');
  for (const word of spaced.split(/\s+/)) if (word !== '') splitWord(word, out);
  return out.filter((t) => !COCO_PUNCTUATION.has(t));
}
