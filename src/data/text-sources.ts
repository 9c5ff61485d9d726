/**
 * Plain prose out of the formats English text packages ship in: the tagged Brown corpus and raw
 * e-mail messages. Pure string functions (the file reading is in src/node/corpora.ts), so they are
 * tested on literal strings and run anywhere.
 */

/**
 * Brown corpus "form C" (`The/at jury/nn said/vbd ./.`, one sentence per line, paragraphs indented
 * by a tab after blank lines) to running text: tags dropped, punctuation attached to the word before
 * it, the corpus's ``/'' quote pairs turned into straight double quotes, one paragraph per line.
 */
export function brownToText(tagged: string): string {
  const paragraphs: string[] = [];
  let words: string[] = [];
  const flush = () => {
    if (words.length) paragraphs.push(joinWords(words));
    words = [];
  };
  for (const line of tagged.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('\t')) flush(); // a paragraph starts indented
    for (const tok of line.trim().split(/\s+/)) {
      const slash = tok.lastIndexOf('/');
      words.push(slash > 0 ? tok.slice(0, slash) : tok);
    }
  }
  flush();
  return paragraphs.join('\n\n');
}

const ATTACH_LEFT = new Set([',', '.', ';', ':', '?', '!', ')', "''", "'", "'s", "n't", '%']);
const ATTACH_RIGHT = new Set(['(', '``', '$']);

function joinWords(words: readonly string[]): string {
  let out = '';
  let glueNext = true;
  for (const w of words) {
    const text = w === '``' || w === "''" ? '"' : w;
    if (!glueNext && !ATTACH_LEFT.has(w)) out += ' ';
    out += text;
    glueNext = ATTACH_RIGHT.has(w);
  }
  return out;
}

/**
 * The readable body of a raw RFC 822 message, or '' when it has none worth training on: headers
 * dropped, MIME/HTML/base64 bodies skipped (markup is not prose), quoted replies (`>` lines) and
 * signatures (after a `-- ` line) removed, runs of blank lines collapsed.
 */
export function emailBody(raw: string): string {
  const text = raw.replace(/\r\n?/g, '\n');
  const split = text.indexOf('\n\n');
  if (split < 0) return '';
  const headers = text.slice(0, split).toLowerCase();
  if (/^content-type:(?!\s*text\/plain)/m.test(headers) || /^content-transfer-encoding:\s*base64/m.test(headers)) return '';
  const body = text.slice(split + 2);
  if (/<html|<body|<table|<div|<font|<p>/i.test(body)) return '';
  const kept: string[] = [];
  for (const line of body.split('\n')) {
    if (line === '-- ' || line === '--') break; // signature
    if (/^\s*(>|\|)/.test(line)) continue; // quoted reply
    if (/^-+\s*Original Message\s*-+/i.test(line)) break; // forwarded copy of an earlier message
    if (/^On .* wrote:\s*$/.test(line)) continue;
    kept.push(line.trimEnd());
  }
  return kept.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}
