/**
 * Sentiment-knowledge pretraining: lexicon words as single tokens, lexicon parsing, and pretraining
 * with the polarity head (exact resume, the head learning, what the README and metrics record).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pretrainToDirectory, type PretrainToDirectoryOptions } from '../src/node/pretrain-files.js';
import { loadPolarityLexicon, parseVaderLexicon } from '../src/node/polarity-lexicon.js';
import { parseMetrics, type EvalRecord } from '../src/train/metrics.js';
import { NEGATORS, parsePolarityLexicon, PolarityMatcher } from '../src/train/polarity.js';
import { PretrainTask, PRETRAIN_DEFAULTS, specialTokensFor } from '../src/train/pretrain.js';
import { Trainer } from '../src/train/trainer.js';
import { trainByteLevelBPE } from '../src/tokenizer/train.js';
import { tempDirs } from './helpers.js';

const tmp = tempDirs();

/**
 * A stand-in tokenizer: byte-level style (a space is spelled Ġ), greedy longest match over `vocab`,
 * any other character its own token (ids from 1000).
 */
function standIn(vocab: string[]) {
  const all = [...vocab];
  const idOf = (t: string) => {
    let i = all.indexOf(t);
    if (i < 0) i = all.push(t) - 1;
    return i;
  };
  return {
    encode(text: string): number[] {
      const s = text.replace(/ /g, 'Ġ');
      const out: number[] = [];
      for (let i = 0; i < s.length; ) {
        let best = s[i]!;
        for (const v of vocab) if (v.length > best.length && s.startsWith(v, i)) best = v;
        out.push(idOf(best));
        i += best.length;
      }
      return out;
    },
    idToToken: (id: number) => all[id],
  };
}

describe('PolarityMatcher', () => {
  const tok = standIn(['Ġgood', 'good', 'Ġbad', 'ge', 'Ġdis', 'appoint', 'ed', 'Ġthe', 'Ġfilm', 'Good', 'Ġnot', 'Ġcool', 'Ġstuff', 'Ġdisappoint']);
  const matcher = new PolarityMatcher(tok, { good: 3, bad: -3, disappointed: -2, 'cool stuff': 3, meh: 0 });
  const labels = (text: string) => Array.from(matcher.label(tok.encode(text)));

  it('labels every token of a matched word with its polarity, whatever number of tokens it takes', () => {
    // Ġthe Ġfilm Ġdisappoint ed → the longest form wins
    expect(labels(' the film disappointed')).toEqual([-1, -1, 0, 0]);
    expect(labels(' good film')).toEqual([1, -1]);
    expect(labels('Good film')).toEqual([1, -1]); // capitalised, at the start
    expect(labels(' cool stuff')).toEqual([1, 1]); // a phrase
    expect(labels(' cool film')).toEqual([-1, -1]);
  });

  it('matches whole words only: not when a word character continues it or it starts inside a word', () => {
    expect(labels(' badge')).toEqual([-1, -1]); // Ġbad ge
    expect(labels(' bad!')).toEqual([0, -1]);
    expect(tok.encode('xgood')).toHaveLength(2); // x good
    expect(labels('xgood')).toEqual([-1, -1]); // "good" inside a word
    expect(labels('(good)')).toEqual([-1, 1, -1]);
  });

  it('counts the words it can find and those that take one token; zero valences are not lexicon words', () => {
    expect(matcher.lexiconWords).toBe(4);
    expect(matcher.words).toBe(4);
    expect(matcher.singleTokenWords).toBe(2); // Ġgood, Ġbad; not disappointed (Ġdisappoint ed) or the phrase
  });

  it('two words of opposite polarity with the same tokens are an error naming both', () => {
    expect(() => new PolarityMatcher(standIn(['Ġgood']), { good: 2, Good: -1 })).toThrow(/"good" and "Good" encode to the same tokens with opposite polarities/);
  });
});

describe('PolarityMatcher with a negation scope', () => {
  const tok = standIn(['Ġgood', 'Ġbad', 'Ġnot', 'Not', 'Ġdon', "'t", "'s", 'Ġit', 'Ġthe', 'Ġfilm', 'Ġwas', 'Ġvery', 'Ġreally', 'Ġno', 'Ġbut', 'Ġat', 'Ġall']);
  const lexicon = { good: 3, bad: -3, no: -1 };
  const negating = new PolarityMatcher(tok, lexicon, { negationScope: 2 });
  const labels = (m: PolarityMatcher, text: string) => Array.from(m.label(tok.encode(text)));

  it('flips the lexicon words within the scope after a negator, counting words, not tokens', () => {
    expect(labels(negating, ' not good')).toEqual([-1, 0]);
    expect(labels(negating, 'Not bad at all')).toEqual([-1, 1, -1, -1]);
    expect(labels(negating, ' not very good')).toEqual([-1, -1, 0]); // 2nd word after `not`
    expect(labels(negating, ' not very really good')).toEqual([-1, -1, -1, 1]); // 3rd: out of scope
    // a contraction's tail is not a word of the scope: `it's` is one word, `good` the 2nd after `don't`
    expect(labels(negating, " don't it's good")).toEqual([-1, -1, -1, -1, 0]);
  });

  it('ends the scope at clause punctuation; without a scope the labels are the lexicon\'s', () => {
    expect(labels(negating, ' not, good')).toEqual([-1, -1, 1]);
    expect(labels(negating, ' not! bad')).toEqual([-1, -1, 0]);
    const plain = new PolarityMatcher(tok, lexicon);
    expect(labels(plain, ' not good')).toEqual([-1, 1]);
    expect(labels(plain, ' no good')).toEqual([0, 1]);
  });

  it('a lexicon word that is a negator negates instead of being a target', () => {
    expect(labels(negating, ' no good')).toEqual([-1, 0]);
    expect(negating.lexiconWords).toBe(3);
    expect(negating.words).toBe(2); // `no` is a negator
    expect(negating.lexiconNegators).toBe(1);
    expect(negating.negators).toBe(NEGATORS.length); // every negator has a form the stand-in encodes
    expect(new PolarityMatcher(tok, lexicon).negators).toBe(0); // negation off
    expect(new PolarityMatcher(tok, lexicon, { negationScope: 2, negators: ['never'] }).label(tok.encode(' no good'))).toEqual(Int8Array.from([0, 1]));
  });

  it('rejects a scope that is not a non-negative integer', () => {
    expect(() => new PolarityMatcher(tok, lexicon, { negationScope: 1.5 })).toThrow(/negationScope = 1.5 must be a non-negative integer/);
    expect(() => new PolarityMatcher(tok, lexicon, { negationScope: -1 })).toThrow(/negationScope = -1/);
  });
});

describe('parsePolarityLexicon / loadPolarityLexicon', () => {
  it('rejects what is not an object of word -> finite number, or has no non-zero valence', () => {
    expect(() => parsePolarityLexicon([1, 2], 'x.json')).toThrow(/expected a JSON object of word -> valence.*got an array/);
    expect(() => parsePolarityLexicon({ good: '3' }, 'x.json')).toThrow(/valence of "good" is "3"/);
    expect(() => parsePolarityLexicon({ fine: 0 }, 'x.json')).toThrow(/no word has a non-zero valence/);
    expect(parsePolarityLexicon({ good: 3, bad: -3 }, 'x.json')).toEqual({ good: 3, bad: -3 });
  });

  it('afinn is AFINN-165 from the sentiment package; a missing file names the built-in lexicons', () => {
    const { lexicon, licences: [licence] } = loadPolarityLexicon('afinn');
    expect(Object.keys(lexicon).length).toBeGreaterThan(3000);
    expect(lexicon.good).toBeGreaterThan(0);
    expect(lexicon.bad).toBeLessThan(0);
    expect(licence).toMatch(/AFINN-165/);
    expect(() => loadPolarityLexicon(join(tmp('none'), 'absent.json'))).toThrow(/not a built-in lexicon \(afinn, vader\) and no file exists/);
  });

  it('vader is the VADER lexicon\'s word entries; a comma list merges lexicons, the first to rate a word winning', () => {
    const vader = loadPolarityLexicon('vader');
    expect(Object.keys(vader.lexicon).length).toBeGreaterThan(7000);
    expect(vader.lexicon.good).toBeGreaterThan(0);
    expect(vader.lexicon["can't stand"]).toBeLessThan(0); // a multi-word entry
    expect(Object.keys(vader.lexicon).some((w) => !/[a-z]/i.test(w))).toBe(false); // no emoticons
    const dir = tmp('lex');
    const own = join(dir, 'own.json');
    writeFileSync(own, JSON.stringify({ good: -1, zorgful: 2 }));
    const merged = loadPolarityLexicon(`${own},afinn`);
    expect(merged.lexicon.good).toBe(-1); // the first list's rating
    expect(merged.lexicon.zorgful).toBe(2);
    expect(merged.lexicon.bad).toBeLessThan(0); // from afinn
    expect(merged.licences).toHaveLength(1); // only built-ins carry a licence line
    expect(merged.licences[0]).toMatch(/^afinn \(polarity lexicon\): AFINN-165/);
    expect(loadPolarityLexicon('afinn,vader').licences.map((l) => l.split(' ')[0])).toEqual(['afinn', 'vader']);
    expect(() => loadPolarityLexicon('afinn,,vader')).toThrow(/an empty name in the list/);
    expect(() => loadPolarityLexicon('afinn,afinn')).toThrow(/afinn is listed twice/);
  });

  it('parseVaderLexicon keeps word entries and rejects a line without a valence', () => {
    expect(parseVaderLexicon('good\t1.9\t0.9\t[2, 2]\n:)\t2.0\t1\t[]\ncan\'t stand\t-2\t0.6\t[]\n\n', 'v.txt')).toEqual({ good: 1.9, "can't stand": -2 });
    expect(() => parseVaderLexicon('good\t1.9\nbad\n', 'v.txt')).toThrow(/v.txt:2: expected "token<TAB>mean valence<TAB>...", got "bad"/);
  });
});

/** Sentences whose words predict the polarity word: "calm ... peace", "angry ... war". */
function writePolarCorpus(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const calm = ['calm', 'quiet', 'friends', 'home'];
  const angry = ['angry', 'loud', 'enemies', 'fire'];
  const filler = ['the', 'of', 'and', 'people', 'nation', 'year'];
  for (let d = 0; d < 8; d++) {
    const sentences: string[] = [];
    for (let s = 0; s < 40; s++) {
      const pos = (s * 5 + d) % 3 !== 0;
      const ctx = pos ? calm : angry;
      const w = [filler[(s + d) % filler.length]!, ctx[s % 4]!, ctx[(s + d + 1) % 4]!, filler[(s * 3) % filler.length]!, pos ? 'peace' : 'war'];
      sentences.push(w.join(' ') + '.');
    }
    writeFileSync(join(dir, `doc${d}.txt`), sentences.join(' '));
  }
}

describe('pretrain --polarity-lexicon', () => {
  const corpus = tmp('polar-corpus');
  writePolarCorpus(corpus);
  const lexiconFile = join(tmp('lexicon'), 'lexicon.json');
  writeFileSync(lexiconFile, JSON.stringify({ peace: 2, war: -2 }));
  const tiny = (out: string): PretrainToDirectoryOptions => ({
    arch: 'roberta', out, corpus, vocabSize: 300, layers: 1, dModel: 16, heads: 2, ffn: 32, seq: 16, batch: 4, steps: 6, lr: 3e-3, warmup: 2,
    evalEvery: 3, saveEvery: 3, logEvery: 2, evalBlocks: 8, dropout: 0.1, validationFraction: 0.25, seed: 5, write: () => {}, tty: false,
    polarityLexicon: lexiconFile, polarityMask: 0.6,
  });
  const evals = (dir: string) => parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).filter((r): r is EvalRecord => r.type === 'eval');

  it('6 steps equal 3 steps + --resume for 3, bit for bit (the head and its moments are in the training state)', async () => {
    const full = tmp('polar-full');
    const log: string[] = [];
    const a = await pretrainToDirectory({ ...tiny(full), write: (s) => log.push(s) });
    expect(log.join('')).toMatch(/polarity lexicon .*lexicon\.json: 2 of 2 words encoded/);
    const split = tmp('polar-split');
    await pretrainToDirectory({ ...tiny(split), stopAfter: 3 });
    const b = await pretrainToDirectory({ ...tiny(split), resume: true });
    expect(Buffer.compare(readFileSync(join(full, 'model.safetensors')), readFileSync(join(split, 'model.safetensors')))).toBe(0);
    expect(b.valLoss).toBe(a.valLoss);
    expect(evals(split)).toEqual(evals(full));
    const last = evals(full).at(-1)!;
    expect(last.polarity_tokens).toBeGreaterThan(0);
    expect(last.polarity_acc).toBeGreaterThanOrEqual(0);
    const readme = readFileSync(join(full, 'README.md'), 'utf8');
    expect(readme).toContain(`--polarity-lexicon ${lexiconFile} --polarity-weight 1 --polarity-mask 0.6`);
    expect(readme).toContain('word polarity prediction');
    // the saved checkpoint is a plain RobertaForMaskedLM: the head is not in it
    const bytes = readFileSync(join(full, 'model.safetensors'));
    expect(bytes.subarray(8, 8 + bytes.readUInt32LE(0)).toString('utf8')).not.toContain('polarity');
  }, 120_000);

  it('the head learns the polarity of masked lexicon words from their context', async () => {
    // "calm" sentences end in peace, "angry" ones in war: only the context tells a masked word's polarity
    const texts = Array.from({ length: 2000 }, (_, s) => (s % 3 !== 0 ? 'the calm quiet people peace.' : 'the angry loud people war.'));
    const tok = trainByteLevelBPE(texts, { vocabSize: 300, specialTokens: specialTokensFor('roberta') });
    const docs = texts.map((t) => tok.encode(t));
    const config = { ...PRETRAIN_DEFAULTS, arch: 'roberta' as const, vocabSize: 300, layers: 1, dModel: 16, heads: 2, ffn: 32, seq: 16, batch: 4, steps: 1000, lr: 3e-3, warmup: 5, decay: 'constant' as const, evalBlocks: 200, polarityLexicon: 'test', polarityMask: 0.6 };
    const task = new PretrainTask(config, tok, docs.slice(0, 1500), docs.slice(1500), { lexicon: { peace: 2, war: -2 } });
    const before = task.evaluate().polarity!;
    await new Trainer({ optimizer: task.optimizer, schedule: task.schedule, loss: () => task.trainLoss(), clipNorm: 1 }).run(0, 1000);
    const after = task.evaluate().polarity!;
    task.dispose();
    expect(after.tokens).toBeGreaterThanOrEqual(40);
    // a third of the words are war: always answering peace scores about 0.67 with a loss of about 0.64
    expect(before.loss).toBeGreaterThan(0.6);
    expect(after.accuracy).toBeGreaterThan(0.95);
    expect(after.loss).toBeLessThan(0.15);
  }, 120_000);

  it("--polarity-targets all trains the head on unselected lexicon tokens too; selected only on the selected ones", async () => {
    const texts = Array.from({ length: 200 }, (_, s) => (s % 3 !== 0 ? 'the calm quiet people peace.' : 'the angry loud people war.'));
    const tok = trainByteLevelBPE(texts, { vocabSize: 300, specialTokens: specialTokensFor('roberta') });
    const docs = texts.map((t) => tok.encode(t));
    // polarityMask 0: no lexicon token is ever selected, so only 'all' gives the head targets
    const headMoves = async (polarityTargets: 'selected' | 'all') => {
      const config = { ...PRETRAIN_DEFAULTS, arch: 'roberta' as const, vocabSize: 300, layers: 1, dModel: 16, heads: 2, ffn: 32, seq: 16, batch: 4, steps: 5, lr: 1e-2, warmup: 0, evalBlocks: 4, polarityLexicon: 'test', polarityMask: 0, polarityTargets };
      const task = new PretrainTask(config, tok, docs.slice(0, 150), docs.slice(150), { lexicon: { peace: 2, war: -2 } });
      const w = task.polarity!.head.weight;
      const before = w.toArray();
      await new Trainer({ optimizer: task.optimizer, schedule: task.schedule, loss: () => task.trainLoss(), clipNorm: 1 }).run(0, 5);
      const moved = Math.max(...w.toArray().map((x, i) => Math.abs(x - before[i]!)));
      task.dispose();
      return moved;
    };
    expect(await headMoves('selected')).toBe(0);
    expect(await headMoves('all')).toBeGreaterThan(1e-3);
  }, 60_000);

  it('a task with a polarity lexicon named but no words given is an error', () => {
    const texts = ['the calm people peace.', 'the angry people war.'];
    const tok = trainByteLevelBPE(texts, { vocabSize: 280, specialTokens: specialTokensFor('roberta') });
    const docs = texts.map((t) => tok.encode(t));
    const config = { ...PRETRAIN_DEFAULTS, arch: 'roberta' as const, vocabSize: 280, layers: 1, dModel: 16, heads: 2, ffn: 32, seq: 8, batch: 1, evalBlocks: 1, polarityLexicon: 'afinn' };
    expect(() => new PretrainTask(config, tok, docs, docs)).toThrow(/polarityLexicon "afinn" is set but no lexicon was given/);
  });

  it('refuses GPT-2, unknown lexicons and bad probabilities', async () => {
    await expect(pretrainToDirectory({ ...tiny(tmp('polar-gpt2')), arch: 'gpt2' })).rejects.toThrow(/polarityLexicon applies to masked-LM pretraining/);
    await expect(pretrainToDirectory({ ...tiny(tmp('polar-missing')), polarityLexicon: 'nope' })).rejects.toThrow(/not a built-in lexicon/);
    await expect(pretrainToDirectory({ ...tiny(tmp('polar-p')), polarityMask: 2 })).rejects.toThrow(/polarityMask = 2 must be in \[0, 1\]/);
    await expect(pretrainToDirectory({ ...tiny(tmp('polar-t')), polarityTargets: 'some' as 'all' })).rejects.toThrow(/polarityTargets 'some' must be selected or all/);
    await expect(pretrainToDirectory({ ...tiny(tmp('polar-n')), polarityNegation: 1.5 })).rejects.toThrow(/polarityNegation = 1.5 must be a non-negative integer/);
    await expect(pretrainToDirectory({ ...tiny(tmp('polar-nl')), polarityLexicon: undefined, polarityNegation: 3 })).rejects.toThrow(/polarityNegation needs a polarity lexicon/);
  }, 60_000);

  it('--polarity-negation reaches the labels, the log and the model card', async () => {
    const out = tmp('polar-neg');
    const log: string[] = [];
    await pretrainToDirectory({ ...tiny(out), steps: 2, evalEvery: 2, saveEvery: 2, polarityNegation: 2, write: (s) => log.push(s) });
    expect(log.join('')).toMatch(/polarity lexicon .*; labels flip within 2 words after a negator \(\d+ negators; 0 lexicon words are negators, not targets\)/);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    expect(readme).toContain('--polarity-negation 2');
    expect(readme).toMatch(/within 2 words after a negator .* is labelled with the opposite polarity/);
    const texts = ['the people not peace.', 'the people war.'];
    const tok = trainByteLevelBPE(texts, { vocabSize: 280, specialTokens: specialTokensFor('roberta') });
    const docs = texts.map((t) => tok.encode(t));
    const config = { ...PRETRAIN_DEFAULTS, arch: 'roberta' as const, vocabSize: 280, layers: 1, dModel: 16, heads: 2, ffn: 32, seq: 8, batch: 1, evalBlocks: 1, polarityLexicon: 'test', polarityNegation: 2 };
    const task = new PretrainTask(config, tok, docs, docs, { lexicon: { peace: 2, war: -2 } });
    const ids = tok.encode(' not peace');
    expect([...task.polarity!.matcher.label(ids)].at(-1)).toBe(0); // `peace` after `not`: negative
    task.dispose();
  }, 60_000);
});
