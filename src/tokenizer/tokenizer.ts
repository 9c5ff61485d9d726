/**
 * ByteLevelBPETokenizer: GPT-2 / RoBERTa tokenization. Added tokens are cut out of the text first,
 * the rest is split with GPT-2's regex and each piece is byte-level BPE encoded.
 */
import { BpeModel, type BpeModelOptions } from './bpe.js';
import { unicodeToByte, utf8Bytes } from './bytes.js';
import { finishLayout, textBudget, truncatePair, type EncodedInput, type LayoutOptions, type PairLayoutOptions } from './layout.js';
import { AddedTokenMatcher, GPT2_SPLIT_PATTERN, type AddedToken } from './pretokenize.js';

export interface ByteLevelBPEOptions extends BpeModelOptions {
  /** Tokens matched as whole strings before pre-tokenization (`<|endoftext|>`, `<s>`, `<mask>`, ...). */
  addedTokens?: readonly AddedToken[];
  /**
   * Put a space before the input when it does not start with one, so the first word is encoded like
   * any other word (RoBERTa/GPT-2 `add_prefix_space`). decode() keeps that space.
   */
  addPrefixSpace?: boolean;
}

export interface Gpt2LayoutOptions extends LayoutOptions {
  /** Append `<|endoftext|>` (document separator when packing training text). */
  appendEos?: boolean;
  /** Pad id; GPT-2 has no pad token, so `<|endoftext|>` by default (masked out anyway). */
  padId?: number;
}

export class ByteLevelBPETokenizer {
  readonly model: BpeModel;
  readonly addedTokens: readonly AddedToken[];
  readonly addPrefixSpace: boolean;
  private readonly addedById = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, AddedToken>();
  private readonly matcher: AddedTokenMatcher;
  private readonly splitter = new RegExp(GPT2_SPLIT_PATTERN);

  constructor(vocab: ReadonlyMap<string, number>, merges: readonly (readonly [string, string])[], opts: ByteLevelBPEOptions = {}) {
    this.model = new BpeModel(vocab, merges, opts);
    this.addPrefixSpace = opts.addPrefixSpace ?? false;
    this.addedTokens = (opts.addedTokens ?? []).map((t) => ({ ...t, special: t.special ?? true }));
    for (const t of this.addedTokens) {
      if (!Number.isInteger(t.id) || t.id < 0) throw new Error(`added token ${JSON.stringify(t.content)} has invalid id ${t.id}`);
      const inVocab = vocab.get(t.content);
      if (inVocab !== undefined && inVocab !== t.id) {
        throw new Error(`added token ${JSON.stringify(t.content)} has id ${t.id} but the vocabulary gives it ${inVocab}`);
      }
      const holder = this.model.idToToken[t.id];
      if (holder !== undefined && holder !== t.content) {
        throw new Error(`added token ${JSON.stringify(t.content)} has id ${t.id}, already the id of ${JSON.stringify(holder)}`);
      }
      if (this.addedById.has(t.id) || this.addedByContent.has(t.content)) {
        throw new Error(`added token ${JSON.stringify(t.content)} (id ${t.id}) is declared twice`);
      }
      this.addedById.set(t.id, t);
      this.addedByContent.set(t.content, t);
    }
    this.matcher = new AddedTokenMatcher(this.addedTokens);
  }

  /** Number of ids (largest id + 1), i.e. the embedding table size a model needs. */
  get vocabSize(): number {
    let n = this.model.idToToken.length;
    for (const id of this.addedById.keys()) n = Math.max(n, id + 1);
    return n;
  }

  get merges(): readonly (readonly [string, string])[] {
    return this.model.merges;
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token)?.id ?? this.model.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.content ?? this.model.idToToken[id];
  }

  /** Id of a token the caller requires (a special token for a layout); throws naming it if absent. */
  requireId(token: string, purpose: string): number {
    const id = this.tokenToId(token);
    if (id === undefined) throw new Error(`${purpose} needs the token ${JSON.stringify(token)}, which this tokenizer does not have`);
    return id;
  }

  /** Token ids of `text`; added tokens in the text map to their ids. No special tokens are added. */
  encode(text: string): number[] {
    const out: number[] = [];
    const segments = this.matcher.split(text);
    segments.forEach((seg, i) => {
      if (typeof seg === 'number') {
        out.push(seg);
        return;
      }
      const s = this.addPrefixSpace && i === 0 && !seg.startsWith(' ') ? ' ' + seg : seg;
      const re = this.splitter;
      re.lastIndex = 0;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        const ids = this.model.encodePiece(m[0]);
        for (let k = 0; k < ids.length; k++) out.push(ids[k]!);
      }
    });
    return out;
  }

  /**
   * Text of `ids`. Tokens are byte sequences, so an id list may end inside a character or hold invalid
   * UTF-8; such bytes become U+FFFD, as the reference decode(errors='replace') does.
   */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    const bytes: number[] = [];
    const utf8: number[] = [];
    for (const id of ids) {
      const added = this.addedById.get(id);
      if (added) {
        if (!(opts.skipSpecialTokens && added.special)) bytes.push(...utf8Bytes(added.content, utf8));
        continue;
      }
      const tok = this.model.idToToken[id];
      if (tok === undefined) throw new Error(`cannot decode id ${id}: not in the vocabulary (size ${this.vocabSize})`);
      for (const ch of tok) {
        const b = ch.length === 1 ? unicodeToByte(ch.charCodeAt(0)) : -1;
        // a character outside the byte alphabet (hand-made vocab entry) stands for its own UTF-8
        if (b >= 0) bytes.push(b);
        else bytes.push(...utf8Bytes(ch, utf8));
      }
    }
    return new TextDecoder('utf-8').decode(new Uint8Array(bytes));
  }

  /** GPT-2 input: the text's tokens, optionally followed by `<|endoftext|>`, truncated and padded. */
  encodeForGpt2(text: string, opts: Gpt2LayoutOptions = {}): EncodedInput {
    const eos = this.requireId('<|endoftext|>', 'encodeForGpt2');
    const specials = opts.appendEos ? 1 : 0;
    const ids = this.encode(text).slice(0, textBudget(opts.maxLength, specials));
    if (opts.appendEos) ids.push(eos);
    return finishLayout(ids, opts.padId ?? eos, opts);
  }

  /** RoBERTa single sequence: `<s> text </s>`, truncated and padded with `<pad>`. */
  encodeForRoberta(text: string, opts: LayoutOptions = {}): EncodedInput {
    const [bos, eos, pad] = this.robertaIds('encodeForRoberta');
    const ids = this.encode(text).slice(0, textBudget(opts.maxLength, 2));
    return finishLayout([bos, ...ids, eos], pad, opts);
  }

  /** RoBERTa pair: `<s> A </s></s> B </s>`, truncated by `truncation` (longest_first) and padded. */
  encodePair(a: string, b: string, opts: PairLayoutOptions = {}): EncodedInput {
    const [bos, eos, pad] = this.robertaIds('encodePair');
    const [ta, tb] = truncatePair(this.encode(a), this.encode(b), textBudget(opts.maxLength, 4), opts.truncation);
    return finishLayout([bos, ...ta, eos, eos, ...tb, eos], pad, opts);
  }

  private robertaIds(purpose: string): [number, number, number] {
    return [this.requireId('<s>', purpose), this.requireId('</s>', purpose), this.requireId('<pad>', purpose)];
  }
}
