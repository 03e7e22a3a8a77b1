// crest-edge's XLM-R tokenizer steps for transformers.js, written into the package by
// `crest-edge convert --to transformers-js`: with it transformers.js gives crest-edge's token ids
// (those of Hugging Face tokenizers) where its own `Precompiled` normalizer only approximates the
// model's charsmap. One line, after loading:
//
//   import { useCrestTokenizer } from "<package>/crest_tokenizer.js";
//   const classifier = await pipeline("text-classification", "<package>", { dtype: "q8" });
//   useCrestTokenizer(classifier.tokenizer);
//
// It replaces the tokenizer's normalizer (the charsmap from tokenizer.json, applied per extended
// grapheme cluster as tokenizers does; see crest_edge/tokenizer/charsmap.py) and pre-tokenizer
// (Unicode White_Space, Metaspace split), and makes a truncating call keep <s>, the first pieces and
// </s> (crest-edge's `head`) where transformers.js would cut </s>. The tables and patterns below are
// crest-edge's own (crest_edge/tokenizer/graphemes.py, xlmr.py), filled in by the converter.

const GRAPHEME_TABLES = __GRAPHEME_TABLES__;
const CLUSTER = new RegExp(__CLUSTER__, "g");
const REGION = new RegExp(__REGION__, "g");
const WHITESPACE = new RegExp(__WHITESPACE__);
const META = "\u2581";

function loadTables() {
  const tables = {};
  for (const line of GRAPHEME_TABLES.split("\n")) {
    const [name, ...items] = line.split(" ").filter(Boolean);
    if (!name) continue;
    const starts = [];
    const ends = [];
    for (const item of items) {
      const [a, b] = item.split("-");
      starts.push(parseInt(a, 16));
      ends.push(parseInt(b ?? a, 16));
    }
    tables[name] = { starts, ends };
  }
  return tables;
}

function has(table, code) {
  const { starts, ends } = table;
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] <= code) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && code <= ends[lo - 1];
}

// One ASCII letter per code point naming its grapheme-break category (graphemes._Categories).
function categoryLetter(tables, code) {
  if (code === 0x0d) return "r";
  if (code === 0x0a) return "n";
  if (code === 0x200d) return "z";
  if (code >= 0x1f1e6 && code <= 0x1f1ff) return "i";
  if (code >= 0xac00 && code <= 0xd7a3) return (code - 0xac00) % 28 === 0 ? "W" : "Y";
  if (has(tables.Control, code)) return "c";
  if (has(tables.Extend, code)) {
    if (has(tables.InCBLinker, code)) return "l";
    return has(tables.InCBExtend, code) ? "f" : "e";
  }
  for (const [name, letter] of [["SpacingMark", "s"], ["Prepend", "p"], ["L", "L"], ["V", "V"], ["T", "T"]]) {
    if (has(tables[name], code)) return letter;
  }
  if (has(tables.ExtPict, code)) return "x";
  return has(tables.InCBConsonant, code) ? "k" : "o";
}

function utf8Length(chars) {
  let n = 0;
  for (const c of chars) {
    const code = c.codePointAt(0);
    n += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return n;
}

function decodeBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; ++i) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// sentencepiece's precompiled charsmap: a darts-clone double array over UTF-8 keys, then the
// NUL-separated replacements (charsmap.PrecompiledCharsmap).
class Charsmap {
  constructor(blob) {
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const size = view.getUint32(0, true);
    this.units = new Uint32Array(size / 4);
    for (let i = 0; i < this.units.length; ++i) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.normalized = blob.subarray(4 + size);
    this.strings = new Map();
    this.decoder = new TextDecoder();
  }

  // The replacement of the shortest key that is a prefix of `key` (bytes) and its length, or of
  // the key exactly `key.length` long when `exact`; null when there is none.
  lookup(key, exact) {
    const units = this.units;
    let found = null;
    if (!units.length) return found;
    let pos = (units[0] >>> 10) << ((units[0] & 512) >>> 6);
    for (let i = 0; i < key.length; ++i) {
      pos ^= key[i];
      if (pos >= units.length) break;
      const unit = units[pos];
      if ((unit & 0x800000ff) >>> 0 !== key[i]) break;
      pos ^= (unit >>> 10) << ((unit & 512) >>> 6);
      if ((unit >>> 8) & 1 && (!exact || i + 1 === key.length)) {
        found = this.string(units[pos] & 0x7fffffff);
        if (!exact) break;
      }
    }
    return found;
  }

  string(start) {
    let value = this.strings.get(start);
    if (value === undefined) {
      let end = this.normalized.indexOf(0, start);
      if (end < 0) end = this.normalized.length;
      value = this.decoder.decode(this.normalized.subarray(start, end));
      this.strings.set(start, value);
    }
    return value;
  }
}

class CrestNormalizer {
  constructor(charsmapBase64) {
    this.charsmap = new Charsmap(decodeBase64(charsmapBase64));
    this.tables = loadTables();
    this.letters = new Map();
    this.chars = new Map();
    this.encoder = new TextEncoder();
  }

  letter(c) {
    let value = this.letters.get(c);
    if (value === undefined) {
      value = categoryLetter(this.tables, c.codePointAt(0));
      this.letters.set(c, value);
    }
    return value;
  }

  char(c) {
    let value = this.chars.get(c);
    if (value === undefined) {
      value = this.charsmap.lookup(this.encoder.encode(c), true) ?? c;
      this.chars.set(c, value);
    }
    return value;
  }

  mapChars(chars, start, end) {
    let out = "";
    for (let i = start; i < end; ++i) out += this.char(chars[i]);
    return out;
  }

  // charsmap.PrecompiledCharsmap.normalize, over code points (indices below count code points).
  normalize(text) {
    const chars = Array.from(text.toWellFormed());
    const letters = chars.map((c) => this.letter(c)).join("");
    const out = [];
    let last = 0;
    for (const region of letters.matchAll(REGION)) {
      let start = region.index;
      const end = start + region[0].length;
      if (start > last) {
        start -= 1; // the plain character the run glues to
        out.push(this.mapChars(chars, last, start));
      }
      last = end;
      if (chars.slice(start, end).every((c) => c.codePointAt(0) >= 0x800)) {
        out.push(this.mapChars(chars, start, end)); // clusters of >= 6 bytes: char by char
        continue;
      }
      for (const m of letters.slice(start, end).matchAll(CLUSTER)) {
        const from = start + m.index;
        const to = from + m[0].length;
        if (to - from > 1 && utf8Length(chars.slice(from, to)) < 6) {
          const found = this.charsmap.lookup(this.encoder.encode(chars.slice(from, to).join("")), false);
          if (found !== null) {
            out.push(found);
            continue;
          }
        }
        out.push(this.mapChars(chars, from, to));
      }
    }
    if (last < chars.length) out.push(this.mapChars(chars, last, chars.length));
    return out.join("");
  }
}

// tokenizers' WhitespaceSplit (Unicode White_Space) then Metaspace(prepend_scheme="always", split=true).
function preTokenize(text) {
  const words = [];
  for (let word of text.split(WHITESPACE)) {
    if (!word) continue;
    if (word.includes(META)) {
      if (word[0] === META) word = word.slice(1);
      for (const part of word.split(META)) words.push(META + part);
    } else {
      words.push(META + word);
    }
  }
  return words;
}

// <s>, the first room - 2 pieces, </s>: crest-edge's `head` for one text.
function keepHead(encoding, room) {
  if (encoding.input_ids.length <= room) return encoding;
  const out = {};
  for (const [key, values] of Object.entries(encoding)) out[key] = [...values.slice(0, room - 1), values.at(-1)];
  return out;
}

export function useCrestTokenizer(tokenizer) {
  if (tokenizer.crestTokenizer) return tokenizer;
  const charsmap = tokenizer.normalizer?.config?.precompiled_charsmap;
  if (!charsmap) throw new Error("useCrestTokenizer: tokenizer.json has no Precompiled normalizer (not XLM-R?)");
  const normalizer = new CrestNormalizer(charsmap);
  tokenizer.normalizer = (text) => normalizer.normalize(text);
  tokenizer.pre_tokenizer = (text) => preTokenize(text);
  const call = tokenizer._call.bind(tokenizer);
  const encodePlus = tokenizer._encode_plus.bind(tokenizer);
  let room = null; // set while a truncating call runs (calls are synchronous)
  tokenizer._encode_plus = (text, options = {}) => {
    const encoding = encodePlus(text, options);
    const single = options.text_pair == null && options.add_special_tokens !== false;
    return room !== null && single ? keepHead(encoding, room) : encoding;
  };
  tokenizer._call = (text, options = {}) => {
    room = options.truncation ? Math.min(options.max_length ?? Infinity, tokenizer.model_max_length ?? Infinity) : null;
    try {
      return call(text, options);
    } finally {
      room = null;
    }
  };
  tokenizer.crestTokenizer = true;
  return tokenizer;
}
