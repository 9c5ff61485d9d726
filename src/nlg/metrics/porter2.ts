/**
 * The English Snowball stemmer ("Porter2"), as METEOR 1.5's stem stage uses it (its `englishStemmer`),
 * written from the published algorithm description (snowballstem.org, "The English (Porter2)
 * stemming algorithm"). Input: one lowercase word; output: its stem.
 *
 * Vowels are a e i o u y; a y at the start of the word or after a vowel is a consonant (written Y
 * while stemming). R1 is the part after the first non-vowel that follows a vowel (after the prefixes
 * gener, commun, arsen when the word starts with one); R2 the same inside R1. A suffix "in R1" starts
 * at or after R1. Each step looks for the longest suffix of its list and acts on that one only.
 */

const isVowel = (c: string | undefined): boolean => c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u' || c === 'y';

/** Words the algorithm leaves alone or maps to fixed stems before any step. */
const EXCEPTIONS: ReadonlyMap<string, string> = new Map([
  ['skis', 'ski'], ['skies', 'sky'], ['dying', 'die'], ['lying', 'lie'], ['tying', 'tie'],
  ['idly', 'idl'], ['gently', 'gentl'], ['ugly', 'ugli'], ['early', 'earli'], ['only', 'onli'], ['singly', 'singl'],
  ['sky', 'sky'], ['news', 'news'], ['howe', 'howe'], ['atlas', 'atlas'], ['cosmos', 'cosmos'], ['bias', 'bias'], ['andes', 'andes'],
]);

/** Words left as they are after step 1a. */
const AFTER_1A = new Set(['inning', 'outing', 'canning', 'herring', 'earring', 'proceed', 'exceed', 'succeed']);

const DOUBLES = new Set(['bb', 'dd', 'ff', 'gg', 'mm', 'nn', 'pp', 'rr', 'tt']);
const LI_ENDINGS = new Set(['c', 'd', 'e', 'g', 'h', 'k', 'm', 'n', 'r', 't']);

const STEP2: readonly [string, string][] = [
  ['ization', 'ize'], ['ational', 'ate'], ['fulness', 'ful'], ['ousness', 'ous'], ['iveness', 'ive'],
  ['tional', 'tion'], ['biliti', 'ble'], ['lessli', 'less'],
  ['entli', 'ent'], ['ation', 'ate'], ['alism', 'al'], ['aliti', 'al'], ['ousli', 'ous'], ['iviti', 'ive'], ['fulli', 'ful'],
  ['enci', 'ence'], ['anci', 'ance'], ['abli', 'able'], ['izer', 'ize'], ['ator', 'ate'], ['alli', 'al'],
  ['bli', 'ble'], ['ogi', 'og'], ['li', ''],
];
const STEP3: readonly [string, string][] = [
  ['ational', 'ate'], ['tional', 'tion'], ['alize', 'al'], ['icate', 'ic'], ['iciti', 'ic'], ['ative', ''],
  ['ical', 'ic'], ['ness', ''], ['ful', ''],
];
const STEP4 = ['ement', 'ance', 'ence', 'able', 'ible', 'ment', 'ant', 'ent', 'ism', 'ate', 'iti', 'ous', 'ive', 'ize', 'ion', 'al', 'er', 'ic'];

/** The longest entry of `list` (by suffix) that `w` ends with. */
function longest<T extends string | readonly [string, string]>(w: string, list: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const e of list) {
    const s = typeof e === 'string' ? e : e[0];
    if (w.endsWith(s) && (best === undefined || s.length > (typeof best === 'string' ? best : best[0]).length)) best = e;
  }
  return best;
}

/** Start of the region after the first non-vowel following a vowel, searching from `from`. */
function regionAfter(w: string, from: number): number {
  for (let i = from + 1; i < w.length; i++) if (!isVowel(w[i]) && isVowel(w[i - 1])) return i + 1;
  return w.length;
}

/** Whether w ends in a short syllable: (non-vowel) vowel (non-vowel but not w, x, Y), or a word of vowel + non-vowel. */
function endsShortSyllable(w: string): boolean {
  const n = w.length;
  if (n === 2) return isVowel(w[0]) && !isVowel(w[1]);
  if (n < 3) return false;
  const [a, b, c] = [w[n - 3], w[n - 2], w[n - 1]];
  return !isVowel(a) && isVowel(b) && !isVowel(c) && c !== 'w' && c !== 'x' && c !== 'Y';
}

/** Stems one lowercase English word. */
export function stemEnglish(word: string): string {
  if (word.length <= 2) return word;
  const fixed = EXCEPTIONS.get(word);
  if (fixed !== undefined) return fixed;
  let w = word.startsWith("'") ? word.slice(1) : word;
  // y at the start or after a vowel is a consonant
  let marked = '';
  for (let i = 0; i < w.length; i++) marked += w[i] === 'y' && (i === 0 || isVowel(marked[i - 1])) ? 'Y' : w[i];
  w = marked;
  const r1 = /^(gener|commun|arsen)/.test(w) ? w.match(/^(gener|commun|arsen)/)![0].length : regionAfter(w, 0);
  const r2 = regionAfter(w, r1);
  const inR1 = (suffix: string) => w.length - suffix.length >= r1;
  const inR2 = (suffix: string) => w.length - suffix.length >= r2;
  const cut = (suffix: string, add = '') => { w = w.slice(0, w.length - suffix.length) + add; };

  // Step 0: apostrophe endings
  const s0 = longest(w, ["'s'", "'s", "'"]);
  if (s0) cut(s0);

  // Step 1a
  const s1a = longest(w, ['sses', 'ied', 'ies', 'us', 'ss', 's']);
  if (s1a === 'sses') cut('sses', 'ss');
  else if (s1a === 'ied' || s1a === 'ies') cut(s1a, w.length > 4 ? 'i' : 'ie');
  else if (s1a === 's') {
    // delete if a vowel occurs before the letter preceding the s
    if (/[aeiouy]/.test(w.slice(0, w.length - 2))) cut('s');
  }
  if (AFTER_1A.has(w)) return w;

  // Step 1b
  const s1b = longest(w, ['eedly', 'ingly', 'edly', 'eed', 'ing', 'ed']);
  if (s1b === 'eed' || s1b === 'eedly') {
    if (inR1(s1b)) cut(s1b, 'ee');
  } else if (s1b) {
    const stem = w.slice(0, w.length - s1b.length);
    if (/[aeiouy]/.test(stem)) {
      w = stem;
      if (w.endsWith('at') || w.endsWith('bl') || w.endsWith('iz')) w += 'e';
      else if (DOUBLES.has(w.slice(-2))) w = w.slice(0, -1);
      else if (r1 >= w.length && endsShortSyllable(w)) w += 'e'; // a short word
    }
  }

  // Step 1c: y/Y -> i after a non-vowel that is not the first letter
  if ((w.endsWith('y') || w.endsWith('Y')) && w.length > 2 && !isVowel(w[w.length - 2])) w = w.slice(0, -1) + 'i';

  // Step 2 (in R1)
  const s2 = longest(w, STEP2);
  if (s2 && inR1(s2[0])) {
    if (s2[0] === 'ogi') {
      if (w[w.length - 4] === 'l') cut('ogi', 'og');
    } else if (s2[0] === 'li') {
      if (LI_ENDINGS.has(w[w.length - 3] ?? '')) cut('li');
    } else cut(s2[0], s2[1]);
  }

  // Step 3 (in R1; ative in R2)
  const s3 = longest(w, STEP3);
  if (s3 && inR1(s3[0])) {
    if (s3[0] === 'ative') {
      if (inR2('ative')) cut('ative');
    } else cut(s3[0], s3[1]);
  }

  // Step 4 (in R2)
  const s4 = longest(w, STEP4);
  if (s4 && inR2(s4)) {
    if (s4 === 'ion') {
      const c = w[w.length - 4];
      if (c === 's' || c === 't') cut('ion');
    } else cut(s4);
  }

  // Step 5
  if (w.endsWith('e')) {
    if (inR2('e') || (inR1('e') && !endsShortSyllable(w.slice(0, -1)))) cut('e');
  } else if (w.endsWith('ll') && inR2('l')) cut('l');

  return w.replace(/Y/g, 'y');
}
