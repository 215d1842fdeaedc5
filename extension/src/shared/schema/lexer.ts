// Tokenizer of the schema language and of C headers: one pass over a file's text giving its
// preprocessing tokens, each marked with whether it starts a line (directives) and whether space
// came before it (stringizing). Problems stay on the token (`bad`) until the preprocessor knows the
// token is used: a stray apostrophe inside `#if 0` is no error, as in gcc.

import { diagnostic, type Diagnostic } from './diagnostics';

export type { Diagnostic, Severity } from './diagnostics';

/** A zero-based position, as LSP counts it. */
export interface Pos {
  line: number;
  character: number;
}
export interface Range {
  start: Pos;
  end: Pos;
}

export type TokKind = 'ident' | 'number' | 'string' | 'char' | 'punct' | 'pragma' | 'eof';
export interface Token {
  kind: TokKind;
  /** The spelling; for strings, the decoded contents (see `raw`). */
  text: string;
  /** Numeric value of `number` and `char` tokens. */
  value?: bigint;
  /** Float literal value (number tokens with a fraction or exponent). */
  float?: number;
  /** Integer literal with a `u` suffix (the preprocessor's unsigned arithmetic). */
  unsigned?: boolean;
  range: Range;
  /** Character offset of the token start in its file's text (adjacency checks: `[[`). */
  start: number;
  end: number;
  /** First token of a logical line. */
  bol?: boolean;
  /** White space or a comment came before it. */
  space?: boolean;
  /** Source spelling of a string or char literal, quotes included. */
  raw?: string;
  /** What is wrong with the token, reported only where it is used. */
  bad?: string;
  /** Macros this token came out of (the preprocessor's hide set). */
  hide?: ReadonlySet<string>;
  /** `file:line` of a token that comes from an included file. */
  origin?: string;
}

/**
 * A token with every field present, so that every token has one object shape: the lexer makes
 * hundreds of thousands and the preprocessor copies them, and a spread or a field added later
 * costs a property store of its own each time.
 */
export function newToken(kind: TokKind, text: string, range: Range, start: number, end: number): Token {
  return { kind, text, value: undefined, float: undefined, unsigned: undefined, range, start, end, bol: undefined, space: undefined, raw: undefined, bad: undefined, hide: undefined, origin: undefined };
}

/** `t` at another place (a macro call's, an #include line's), with its hide set, origin and flags given. */
export function placedToken(t: Token, range: Range, hide: ReadonlySet<string> | undefined, origin: string | undefined, space: boolean | undefined, bol: boolean | undefined): Token {
  return { kind: t.kind, text: t.text, value: t.value, float: t.float, unsigned: t.unsigned, range, start: t.start, end: t.end, bol, space, raw: t.raw, bad: t.bad, hide, origin };
}

/** A `#define` of the main file: hover, completion, definitions, import. */
export interface Define {
  name: string;
  /** The replacement list. */
  tokens: Token[];
  /** Parameters of a function-like macro. */
  params?: string[];
  range: Range;
}

const PUNCT = [
  '<<=', '>>=', '...', '->', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '++', '--', '::', '##',
  '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=',
  '{', '}', '(', ')', '[', ']', ';', ',', ':', '.', '@', '=', '<', '>', '+', '-', '*', '/', '%',
  '&', '|', '^', '~', '!', '?', '#',
];
/** The punctuators by the code of their first character, longest first. */
const PUNCT_BY_CODE: (string[] | undefined)[] = Array.from({ length: 128 }, () => undefined);
for (const p of PUNCT) (PUNCT_BY_CODE[p.charCodeAt(0)] ??= []).push(p);

/** Default bound on the tokens of one file, and of one preprocessed translation unit (CompileOptions.maxTokens). */
export const MAX_TOKENS = 4_000_000;
/**
 * Deepest `#if` nesting a file may have (real headers stay within a few dozen). Counted here, so
 * that a file of 200 000 nested `#if 1` stops being read at once instead of after all of it.
 */
export const MAX_IF_DEPTH = 1024;

/** The sentence of a token limit: compile and import tell it apart from other diagnostics by this start. */
export const TOKEN_LIMIT_MESSAGE = 'too many tokens';

const isIdStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
const isIdChar = (c: number) => isIdStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number) => c >= 48 && c <= 57;

export interface TokenizeResult {
  tokens: Token[];
  comments: Range[];
  /** File-level problems (an unterminated comment, the token limit). */
  diagnostics: Diagnostic[];
  /** The token limit's diagnostic, when the file was cut there. */
  cut?: Diagnostic;
}

/** Adds a token of `kind` over text [a, b) with `extra` fields; returns it. */
type Push = (kind: TokKind, a: number, b: number, extra?: Partial<Token>) => Token;

const SIMPLE_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, e: 27, '?': 63 };

/** The character code of the escape sequence after the backslash at `j - 1`, and the index after it. */
function escapeValue(text: string, j: number): [number, number] {
  const n = text.length;
  // j points after the backslash; returns [code, next index]
  const c = text[j];
  if (c === 'x') {
    let k = j + 1;
    while (k < n && /[0-9a-fA-F]/.test(text[k]!) && k < j + 3) k++;
    return [parseInt(text.slice(j + 1, k) || '0', 16), k];
  }
  if (c !== undefined && /[0-7]/.test(c)) {
    let k = j;
    while (k < n && /[0-7]/.test(text[k]!) && k < j + 3) k++;
    return [parseInt(text.slice(j, k), 8), k];
  }
  return [c !== undefined ? (SIMPLE_ESCAPES[c] ?? c.charCodeAt(0)) : 0, j + 1];
}

const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** `u`, `U`, `l`, `L`: an integer constant's suffix letters. */
const isIntSuffix = (c: number) => c === 117 || c === 85 || c === 108 || c === 76;

/**
 * The common cases of a number at `a`, without a regular expression: a decimal without a leading
 * 0 (`16`, `1U`) or a hexadecimal (`0x1f`, `0xFFUL`), with `u`/`l` suffixes. Returns its end, or
 * -1 for any other number (octal, binary, floating, digit separators, a pp-number), which
 * lexNumber reads in full.
 */
function plainInteger(text: string, a: number, push: Push): number {
  const n = text.length;
  const hex = text.charCodeAt(a) === 48 && (text.charCodeAt(a + 1) | 32) === 120;
  if (!hex && text.charCodeAt(a) === 48 && isDigit(text.charCodeAt(a + 1))) return -1;
  let j = hex ? a + 2 : a;
  const first = j;
  while (j < n && (hex ? isHex(text.charCodeAt(j)) : isDigit(text.charCodeAt(j)))) j++;
  if (j === first || (!hex && j - a >= 16)) return -1;
  const digits = j;
  while (j < n && isIntSuffix(text.charCodeAt(j))) j++;
  const c = j < n ? text.charCodeAt(j) : 0;
  if (c === 46 || c === 39 || isIdChar(c)) return -1;
  const value = hex ? BigInt(text.slice(a, digits)) : BigInt(Number(text.slice(a, digits)));
  let unsigned = false;
  for (let k = digits; k < j; k++) if ((text.charCodeAt(k) | 32) === 117) unsigned = true;
  push('number', a, j, unsigned ? { value, unsigned } : { value });
  return j;
}

/** A number token at `a` (a pp-number that is no C number is one with `bad`); returns its end. */
function lexNumber(text: string, a: number, push: Push): number {
  const plain = plainInteger(text, a, push);
  if (plain >= 0) return plain;
  const n = text.length;
  let j = a;
  let isFloat = false;
  const at = (k: number) => text.charCodeAt(k);
  if (text[j] === '0' && (text[j + 1] === 'x' || text[j + 1] === 'X')) {
    j += 2;
    while (j < n && /[0-9a-fA-F']/.test(text[j]!)) j++;
  } else if (text[j] === '0' && (text[j + 1] === 'b' || text[j + 1] === 'B')) {
    j += 2;
    while (j < n && /[01']/.test(text[j]!)) j++;
  } else {
    while (j < n && (isDigit(at(j)) || text[j] === "'")) j++;
    if (text[j] === '.') {
      isFloat = true;
      j++;
      while (j < n && isDigit(at(j))) j++;
    }
    if ((text[j] === 'e' || text[j] === 'E') && /[-+0-9]/.test(text[j + 1] ?? '')) {
      isFloat = true;
      j += 2;
      while (j < n && isDigit(at(j))) j++;
    }
  }
  const body = text.slice(a, j).replace(/'/g, '');
  const sfx = j;
  // gcc's typed floating suffixes (`1.0f32`, `2.5F128x`, math.h's M_Ef32) and decimal ones (`1.5DD`).
  const typed = isFloat ? /^(?:[fF](?:16|32|64|128)x?|[dD][fFdDlL])(?![0-9A-Za-z_])/.exec(text.slice(j, j + 6)) : null;
  if (typed) j += typed[0].length;
  else while (j < n && /[uUlLfF]/.test(text[j]!)) j++;
  const suffix = text.slice(sfx, j);
  if (j < n && isIdChar(at(j))) {
    // A pp-number that is no C number (it may still be pasted or stringized).
    while (j < n && (isIdChar(at(j)) || text[j] === '.')) j++;
    push('number', a, j, { value: 0n, bad: `malformed number "${text.slice(a, j)}"` });
    return j;
  }
  if (isFloat) {
    const f = Number(body.endsWith('.') ? body.slice(0, -1) : body);
    push('number', a, j, { float: f, value: Number.isFinite(f) ? BigInt(Math.trunc(f)) : 0n });
  } else {
    let v = 0n;
    let bad: string | undefined;
    try {
      if (/^0[0-7]+$/.test(body)) v = BigInt('0o' + body.slice(1));
      else if (/^0[xb]$/i.test(body) || /^0[0-9]*[89]/.test(body)) throw new Error('malformed');
      else v = BigInt(body);
    } catch {
      bad = `malformed number "${text.slice(a, j)}"`;
    }
    push('number', a, j, { value: v, ...(bad ? { bad } : {}), ...(/u/i.test(suffix) ? { unsigned: true } : {}) });
  }
  return j;
}

/** The string literal whose `"` is at `k`: its end, its value and why it is malformed. */
function stringLiteral(text: string, k: number): { end: number; s: string; bad?: string } {
  const n = text.length;
  let j = k + 1;
  let s = '';
  while (j < n && text[j] !== '"' && text[j] !== '\n') {
    if (text[j] === '\\') {
      if (text[j + 1] === '\n') {
        j += 2;
        continue;
      }
      const [code, nx] = escapeValue(text, j + 1);
      s += String.fromCharCode(code);
      j = nx;
    } else s += text[j++];
  }
  if (text[j] !== '"') return { end: j, s, bad: 'unterminated string' };
  return { end: j + 1, s };
}

/** The character constant whose `'` is at `k`: its end, its value (an int) and why it is malformed. */
function charLiteral(text: string, k: number): { end: number; v: bigint; bad?: string } {
  const n = text.length;
  let j = k + 1;
  let v = 0n;
  let count = 0;
  while (j < n && text[j] !== "'" && text[j] !== '\n') {
    let code: number;
    if (text[j] === '\\') [code, j] = escapeValue(text, j + 1);
    else code = text.charCodeAt(j++);
    v = (v << 8n) | BigInt(code & 0xff);
    count++;
  }
  let bad: string | undefined;
  if (text[j] !== "'" || count === 0) bad = 'malformed character constant';
  else j++;
  // A plain char constant is an int holding a (signed) char.
  if (count === 1) v = BigInt.asIntN(8, v);
  return { end: j, v, ...(bad ? { bad } : {}) };
}

/** The end of the line comment at `k`: the end of its line, continuations included. */
function lineCommentEnd(text: string, k: number): number {
  let e = k;
  for (;;) {
    e = text.indexOf('\n', e);
    if (e < 0) return text.length;
    if (text[e - 1] === '\\' || (text[e - 1] === '\r' && text[e - 2] === '\\')) e++;
    else return e;
  }
}

/** The end of the run of identifier characters that starts at `j`. */
function identEnd(text: string, j: number): number {
  const n = text.length;
  while (j < n && isIdChar(text.charCodeAt(j))) j++;
  return j;
}

/**
 * The length of the backslash-newline at `j` when it joins an identifier to the identifier
 * characters after it (translation phase 2), else 0.
 */
function identSplice(text: string, j: number): number {
  if (text[j] !== '\\') return 0;
  const len = text[j + 1] === '\n' ? 2 : text[j + 1] === '\r' && text[j + 2] === '\n' ? 3 : 0;
  return len && isIdChar(text.charCodeAt(j + len)) ? len : 0;
}

/**
 * Places in one file's text, for tokens that come in order: a position, a range, and a line's
 * range (one per line, made when its first token is).
 */
function positions(text: string): { posAt: (off: number) => Pos; rangeOf: (a: number, b: number) => Range; lineRangeOf: (a: number) => Range } {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  let hint = 0;
  const posAt = (off: number): Pos => {
    // Tokens come in order: walk forward from the last answer (linear over the file), else search.
    if ((lineStarts[hint] ?? 0) <= off) {
      while (hint + 1 < lineStarts.length && lineStarts[hint + 1]! <= off) hint++;
      return { line: hint, character: off - lineStarts[hint]! };
    }
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    hint = lo;
    return { line: lo, character: off - lineStarts[lo]! };
  };
  const rangeOf = (a: number, b: number): Range => ({ start: posAt(a), end: posAt(b) });
  // One range per line, made when its first token is: tokens come in order, so the line only
  // moves forward (posAt, for a diagnostic, may have moved `hint` anywhere).
  let lastLine = -1;
  let lastRange: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const lineRangeOf = (a: number): Range => {
    if ((lineStarts[hint] ?? 0) > a) hint = posAt(a).line;
    while (hint + 1 < lineStarts.length && lineStarts[hint + 1]! <= a) hint++;
    if (hint !== lastLine) {
      lastLine = hint;
      lastRange = { start: { line: hint, character: 0 }, end: { line: hint, character: 0 } };
    }
    return lastRange;
  };
  return { posAt, rangeOf, lineRangeOf };
}

/**
 * Splits one file's text into tokens (no eof token); never throws. With `lineRanges`, a token's
 * range is its line's (one range shared by the tokens of a line, character 0) and comments are not
 * kept: what the tokens of an included file need, whose places are told by line (`origin`,
 * diagnostics at the #include).
 */
export function tokenize(text: string, maxTokens = MAX_TOKENS, lineRanges = false): TokenizeResult {
  const tokens: Token[] = [];
  const comments: Range[] = [];
  const diagnostics: Diagnostic[] = [];
  const { rangeOf, lineRangeOf } = positions(text);

  const n = text.length;
  let bol = true;
  let space = false;
  const push: Push = (kind, a, b, extra) => {
    const t = newToken(kind, text.slice(a, b), lineRanges ? lineRangeOf(a) : rangeOf(a, b), a, b);
    if (extra) {
      t.value = extra.value;
      t.float = extra.float;
      t.unsigned = extra.unsigned;
      t.raw = extra.raw;
      t.bad = extra.bad;
    }
    if (bol) t.bol = true;
    if (space) t.space = true;
    bol = false;
    space = false;
    tokens.push(t);
    return t;
  };



  let ifDepth = 0;
  let k = 0;
  let cut: Diagnostic | undefined;
  while (k < n) {
    if (tokens.length >= maxTokens) {
      cut = diagnostic(rangeOf(k, k), 'error', `${TOKEN_LIMIT_MESSAGE}: the file has more than ${maxTokens}, the rest is not read`);
      diagnostics.push(cut);
      break;
    }
    const c = text.charCodeAt(k);
    if (c === 10) {
      bol = true;
      space = false;
      k++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
      space = true;
      k++;
      continue;
    }
    if (c === 92 && (text[k + 1] === '\n' || (text[k + 1] === '\r' && text[k + 2] === '\n'))) {
      k += text[k + 1] === '\n' ? 2 : 3;
      continue;
    }
    const ch = text[k]!;
    if (ch === '/' && text[k + 1] === '/') {
      const end = lineCommentEnd(text, k);
      if (!lineRanges) comments.push(rangeOf(k, end));
      space = true;
      k = end;
      continue;
    }
    if (ch === '/' && text[k + 1] === '*') {
      const e = text.indexOf('*/', k + 2);
      if (e < 0) {
        diagnostics.push(diagnostic(rangeOf(k, k + 2), 'error', 'unterminated comment'));
        comments.push(rangeOf(k, n));
        break;
      }
      if (!lineRanges) comments.push(rangeOf(k, e + 2));
      space = true;
      k = e + 2;
      continue;
    }
    if (isIdStart(c)) {
      const j = identEnd(text, k + 1);
      if (identSplice(text, j)) {
        // A name split by backslash-newlines: one token, its text with the splices taken out.
        let e = j;
        for (let s = identSplice(text, e); s; s = identSplice(text, e)) e = identEnd(text, e + s);
        const t = push('ident', k, e);
        t.text = t.text.replace(/\\\r?\n/g, '');
        k = e;
        continue;
      }
      // Encoding prefixes of literals: L"x", u8"x", u'x'.
      if ((text[j] === '"' || text[j] === "'") && /^(L|u|U|u8)$/.test(text.slice(k, j))) {
        k = j;
        continue;
      }
      const t = push('ident', k, j);
      k = j;
      const hash = tokens[tokens.length - 2];
      if (hash?.bol && hash.kind === 'punct' && hash.text === '#' && !t.bol) {
        if (t.text === 'if' || t.text === 'ifdef' || t.text === 'ifndef') ifDepth++;
        else if (t.text === 'endif' && ifDepth > 0) ifDepth--;
        if (ifDepth > MAX_IF_DEPTH) {
          diagnostics.push(diagnostic(t.range, 'error', `#if nested deeper than ${MAX_IF_DEPTH}: the rest of the file is not read`));
          break;
        }
      }
      continue;
    }
    if (isDigit(c) || (ch === '.' && isDigit(text.charCodeAt(k + 1)))) {
      k = lexNumber(text, k, push);
      continue;
    }
    if (ch === '"') {
      const { end, s, bad } = stringLiteral(text, k);
      const t = push('string', k, end, { raw: text.slice(k, end), ...(bad ? { bad } : {}) });
      t.text = s;
      k = end;
      continue;
    }
    if (ch === "'") {
      const { end, v, bad } = charLiteral(text, k);
      push('char', k, end, { value: v, raw: text.slice(k, end), ...(bad ? { bad } : {}) });
      k = end;
      continue;
    }
    const cands = PUNCT_BY_CODE[c];
    let p: string | undefined;
    if (cands) {
      for (const q of cands) {
        if (q.length === 1 || text.startsWith(q, k)) {
          p = q;
          break;
        }
      }
    }
    if (p) {
      push('punct', k, k + p.length);
      k += p.length;
      continue;
    }
    push('punct', k, k + 1, { bad: `unexpected character "${ch}"` });
    k++;
  }
  return { tokens, comments, diagnostics, ...(cut ? { cut } : {}) };
}

/** The end-of-input token at `range`. */
export function eofToken(range: Range, at = 0): Token {
  return { kind: 'eof', text: '', range, start: at, end: at };
}
