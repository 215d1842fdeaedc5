// Tokenizer and the small preprocessor of the schema language: comments, numeric `#define`s,
// `#pragma pack` / `#pragma endian` (kept as tokens so the parser sees them in order), and
// everything else a header may hold (`#include`, `#if…`) skipped with a note.

/** A zero-based position, as LSP counts it. */
export interface Pos {
  line: number;
  character: number;
}
export interface Range {
  start: Pos;
  end: Pos;
}
export type Severity = 'error' | 'warning' | 'info';
/** A problem in a schema or in decoded data; always has a source range. */
export interface Diagnostic {
  range: Range;
  severity: Severity;
  message: string;
}

export type TokKind = 'ident' | 'number' | 'string' | 'char' | 'punct' | 'pragma' | 'eof';
export interface Token {
  kind: TokKind;
  text: string;
  /** Numeric value of `number` and `char` tokens. */
  value?: bigint;
  /** Float literal value (number tokens with a fraction or exponent). */
  float?: number;
  range: Range;
  /** Character offset of the token start in the text (adjacency checks: `[[`). */
  start: number;
  end: number;
}

/** A numeric `#define`: its tokens are substituted where the name appears. */
export interface Define {
  name: string;
  tokens: Token[];
  range: Range;
}

export interface LexResult {
  tokens: Token[];
  defines: Map<string, Define>;
  diagnostics: Diagnostic[];
  /** Directives that were not used (for header import reports). */
  skipped: { text: string; range: Range }[];
  comments: Range[];
}

const PUNCT = [
  '<<=', '>>=', '...', '->', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '++', '--', '::',
  '{', '}', '(', ')', '[', ']', ';', ',', ':', '.', '@', '=', '<', '>', '+', '-', '*', '/', '%',
  '&', '|', '^', '~', '!', '?', '#',
];

const MAX_TOKENS = 2_000_000;

/** Splits text into tokens; never throws. */
export function lex(text: string): LexResult {
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  const defines = new Map<string, Define>();
  const skipped: { text: string; range: Range }[] = [];
  const comments: Range[] = [];
  // Line starts, for offset -> position.
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const posAt = (off: number): Pos => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= off) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: off - (lineStarts[lo] ?? 0) };
  };
  const rangeOf = (a: number, b: number): Range => ({ start: posAt(a), end: posAt(b) });

  const i = 0;
  let lineStart = true; // only whitespace since the last newline
  const n = text.length;
  let out = tokens;

  const push = (kind: TokKind, a: number, b: number, extra?: Partial<Token>) => {
    out.push({ kind, text: text.slice(a, b), range: rangeOf(a, b), start: a, end: b, ...extra });
  };

  const lexNumber = (a: number): number => {
    let j = a;
    let isFloat = false;
    if (text[j] === '0' && (text[j + 1] === 'x' || text[j + 1] === 'X')) {
      j += 2;
      while (j < n && /[0-9a-fA-F']/.test(text[j]!)) j++;
    } else if (text[j] === '0' && (text[j + 1] === 'b' || text[j + 1] === 'B')) {
      j += 2;
      while (j < n && /[01']/.test(text[j]!)) j++;
    } else {
      while (j < n && /[0-9']/.test(text[j]!)) j++;
      if (text[j] === '.' && /[0-9]/.test(text[j + 1] ?? '')) {
        isFloat = true;
        j++;
        while (j < n && /[0-9]/.test(text[j]!)) j++;
      }
      if ((text[j] === 'e' || text[j] === 'E') && /[-+0-9]/.test(text[j + 1] ?? '')) {
        isFloat = true;
        j += 2;
        while (j < n && /[0-9]/.test(text[j]!)) j++;
      }
    }
    const body = text.slice(a, j).replace(/'/g, '');
    while (j < n && /[uUlLfF]/.test(text[j]!)) j++;
    if (/[A-Za-z0-9_]/.test(text[j] ?? '')) {
      while (j < n && /[A-Za-z0-9_]/.test(text[j]!)) j++;
      diagnostics.push({ range: rangeOf(a, j), severity: 'error', message: `malformed number "${text.slice(a, j)}"` });
      push('number', a, j, { value: 0n });
      return j;
    }
    if (isFloat) {
      const f = Number(body);
      push('number', a, j, { float: f, value: Number.isFinite(f) ? BigInt(Math.trunc(f)) : 0n });
    } else {
      let v = 0n;
      try {
        if (/^0[0-7]+$/.test(body)) v = BigInt('0o' + body.slice(1));
        else v = BigInt(body.length > 2 || !/^0[xb]$/i.test(body) ? body : '0');
      } catch {
        diagnostics.push({ range: rangeOf(a, j), severity: 'error', message: `malformed number "${text.slice(a, j)}"` });
      }
      push('number', a, j, { value: v });
    }
    return j;
  };

  const escapeValue = (j: number): [number, number] => {
    // j points after the backslash; returns [code, next index]
    const c = text[j];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };
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
    return [c !== undefined ? (simple[c] ?? c.charCodeAt(0)) : 0, j + 1];
  };

  /** Lexes one directive line starting at '#'. */
  const directive = (a: number): number => {
    // Gather the logical line (with backslash continuations).
    let j = a + 1;
    while (j < n && text[j] !== '\n') {
      if (text[j] === '\\' && text[j + 1] === '\n') j += 2;
      else j++;
    }
    const lineText = text.slice(a, j);
    const m = /^#\s*([A-Za-z_]\w*)/.exec(lineText);
    const word = m?.[1] ?? '';
    if (word === 'define') {
      // Lex the rest of the line into a private token list.
      const saved = out;
      const list: Token[] = [];
      out = list;
      lexRange(a + (m?.[0].length ?? 1), j);
      out = saved;
      const name = list[0];
      if (!name || name.kind !== 'ident') {
        diagnostics.push({ range: rangeOf(a, j), severity: 'error', message: '#define needs a name' });
        return j;
      }
      // Function-like macros are not types or numbers: skip them with a note.
      if (list[1] && list[1].text === '(' && list[1].start === name.end) {
        skipped.push({ text: `#define ${name.text}(…) (function-like macro)`, range: rangeOf(a, j) });
        return j;
      }
      const body = list.slice(1);
      const numeric = body.length > 0 && body.every((t) => t.kind === 'number' || t.kind === 'char' || t.kind === 'ident' || (t.kind === 'punct' && /^(?:[-+*/%&|^~!()<>]|<<|>>|==|!=|<=|>=|&&|\|\||\?|:)$/.test(t.text)));
      if (!numeric) {
        skipped.push({ text: `#define ${name.text} (not a numeric constant)`, range: rangeOf(a, j) });
        return j;
      }
      defines.set(name.text, { name: name.text, tokens: body, range: name.range });
      return j;
    }
    if (word === 'pragma') {
      push('pragma', a, j);
      return j;
    }
    if (word === 'include' || word === 'if' || word === 'ifdef' || word === 'ifndef' || word === 'endif' || word === 'else' || word === 'elif' || word === 'undef' || word === 'error' || word === 'warning' || word === 'line') {
      // Conditionals are not evaluated: every branch is read (headers guard with #ifndef).
      if (word === 'include' || word === 'undef' || word === 'error' || word === 'warning') skipped.push({ text: lineText.trim(), range: rangeOf(a, j) });
      return j;
    }
    diagnostics.push({ range: rangeOf(a, j), severity: 'warning', message: `unknown directive "${lineText.trim()}" ignored` });
    return j;
  };

  const lexRange = (start: number, stop: number): number => {
    let k = start;
    while (k < stop) {
      if (out.length > MAX_TOKENS) {
        diagnostics.push({ range: rangeOf(k, k), severity: 'error', message: 'schema too large (token limit reached)' });
        return stop;
      }
      const c = text.charCodeAt(k);
      if (c === 10) {
        lineStart = true;
        k++;
        continue;
      }
      if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
        k++;
        continue;
      }
      if (c === 92 && text[k + 1] === '\n') {
        k += 2;
        continue;
      }
      const ch = text[k]!;
      if (ch === '/' && text[k + 1] === '/') {
        const e = text.indexOf('\n', k);
        const end = e < 0 || e > stop ? stop : e;
        comments.push(rangeOf(k, end));
        k = end;
        continue;
      }
      if (ch === '/' && text[k + 1] === '*') {
        const e = text.indexOf('*/', k + 2);
        if (e < 0) {
          diagnostics.push({ range: rangeOf(k, k + 2), severity: 'error', message: 'unterminated comment' });
          comments.push(rangeOf(k, n));
          return n;
        }
        comments.push(rangeOf(k, e + 2));
        k = e + 2;
        continue;
      }
      if (ch === '#' && lineStart && out === tokens) {
        k = directive(k);
        continue;
      }
      lineStart = false;
      if (/[A-Za-z_]/.test(ch)) {
        let j = k + 1;
        while (j < stop && /[A-Za-z0-9_]/.test(text[j]!)) j++;
        push('ident', k, j);
        k = j;
        continue;
      }
      if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(text[k + 1] ?? ''))) {
        k = lexNumber(k);
        continue;
      }
      if (ch === '"') {
        let j = k + 1;
        let s = '';
        while (j < stop && text[j] !== '"' && text[j] !== '\n') {
          if (text[j] === '\\') {
            const [code, nx] = escapeValue(j + 1);
            s += String.fromCharCode(code);
            j = nx;
          } else s += text[j++];
        }
        if (text[j] !== '"') diagnostics.push({ range: rangeOf(k, j), severity: 'error', message: 'unterminated string' });
        else j++;
        out.push({ kind: 'string', text: s, range: rangeOf(k, j), start: k, end: j });
        k = j;
        continue;
      }
      if (ch === "'") {
        let j = k + 1;
        let v = 0n;
        let count = 0;
        while (j < stop && text[j] !== "'" && text[j] !== '\n') {
          let code: number;
          if (text[j] === '\\') [code, j] = escapeValue(j + 1);
          else code = text.charCodeAt(j++);
          v = (v << 8n) | BigInt(code & 0xff);
          count++;
        }
        if (text[j] !== "'" || count === 0) diagnostics.push({ range: rangeOf(k, j), severity: 'error', message: 'malformed character constant' });
        else j++;
        push('char', k, j, { value: v });
        k = j;
        continue;
      }
      const p = PUNCT.find((q) => text.startsWith(q, k));
      if (p) {
        push('punct', k, k + p.length);
        k += p.length;
        continue;
      }
      diagnostics.push({ range: rangeOf(k, k + 1), severity: 'error', message: `unexpected character "${ch}"` });
      k++;
    }
    return k;
  };

  lexRange(0, n);
  tokens.push({ kind: 'eof', text: '', range: rangeOf(n, n), start: n, end: n });
  void i;
  return { tokens, defines, diagnostics, skipped, comments };
}
