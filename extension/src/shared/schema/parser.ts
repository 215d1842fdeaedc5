// Hand-written recursive-descent parser. On an error it reports, skips to the next `;` or `}` at
// the right nesting depth and carries on, so one typo gives one diagnostic and the rest of the
// file still has symbols, hovers and layout.
import type { Attr, AttrArg, Decl, Derived, EnumDecl, EnumItem, Expr, MemberDecl, NameRef, StructDecl, TypeRef, TypeSpec } from './ast';
import { INT, literalType } from './c-int';
import type { Define, Diagnostic, Range, Token } from './lexer';
import { preprocess, type Macro, type PreprocessOptions } from './preprocess';

export interface ParseResult {
  decls: Decl[];
  defines: Map<string, Define>;
  macros: Map<string, Macro>;
  diagnostics: Diagnostic[];
  skipped: { text: string; range: Range }[];
  refs: NameRef[];
  tokens: Token[];
  comments: Range[];
  /** Names of the file-scope variables it skipped (`static const int v[] = {…};`): never constants. */
  variables: Set<string>;
  /** Token index spans [start, end) of the top-level declarations that declare types (import). */
  spans: { start: number; end: number; decls: Decl[] }[];
  included: string[];
  values?: Map<string, bigint>;
  /** The first diagnostic of a token limit that cut the input short (PreprocessOptions.maxTokens). */
  tokenLimit?: Diagnostic;
}

/** Words that start a type (besides typedef names and known type names). */
const TYPE_WORDS = new Set(['struct', 'union', 'enum', 'offset', 'unsigned', 'signed', 'short', 'long', 'int', 'char', 'float', 'double', 'void', 'bool', '_Bool', '__signed__', '__signed', '__int128', '_Complex', '__complex__', '__complex', '__typeof__', '__typeof', 'typeof', 'typeof_unqual']);
const QUALIFIERS = new Set([
  'const', 'volatile', 'restrict', '__restrict', '__restrict__', '__const', '__const__', '__volatile', '__volatile__', 'register', 'static', 'extern', 'inline', '__inline',
  '__inline__', '_Atomic', '__extension__', '_Noreturn', '__thread', '_Thread_local', 'auto',
]);
/** Words that never name a declarator. */
const NOT_A_NAME = new Set(['__attribute__', '__attribute', 'alignas', '_Alignas', '__asm__', '__asm', 'asm']);
const MAX_DEPTH = 200;
/** GNU attributes that change a layout in ways the engine does not model. */
const LAYOUT_ATTRS = new Set(['scalar_storage_order', 'ms_struct', 'gcc_struct', 'designated_init_layout']);
/** Most binary operators in one expression (a longer chain would overflow the evaluators' stack). */
const MAX_OPERATORS = 2000;

class Bail extends Error {}

/** A bracket or brace token; a string or character literal spelled `"{"` is never one. */
const isPunct = (t: Token, s: string) => t.kind === 'punct' && t.text === s;

export function parse(text: string, knownTypes: ReadonlySet<string>, options: PreprocessOptions = {}): ParseResult {
  const lx = preprocess(text, options);
  const diagnostics = [...lx.diagnostics];
  const refs: NameRef[] = lx.uses.map((u) => ({ name: u.name, range: u.range, kind: 'value' as const }));
  const skipped = [...lx.skipped];
  const typeNames = new Set(knownTypes);
  // Tags are types too (C++ style `Header h;`, `sizeof(Header)`), even before their definition.
  for (let i = 0; i + 1 < lx.tokens.length; i++) {
    const t = lx.tokens[i]!;
    const n = lx.tokens[i + 1]!;
    if (t.kind === 'ident' && n.kind === 'ident' && ['struct', 'union', 'enum', 'segment'].includes(t.text)) typeNames.add(n.text);
    if (t.kind === 'ident' && t.text === 'typedef') {
      // The typedef name is the last identifier before the `;` at depth 0.
      let d = 0;
      let last: string | undefined;
      for (let j = i + 1; j < lx.tokens.length && j < i + 100_000; j++) {
        const x = lx.tokens[j]!;
        if (x.kind === 'ident' && NOT_A_NAME.has(x.text)) {
          // Skip the attribute's parentheses: its words are not the typedef's name.
          let pd = 0;
          for (j++; j < lx.tokens.length; j++) {
            const y = lx.tokens[j]!;
            if (isPunct(y, '(')) pd++;
            else if (isPunct(y, ')') && --pd <= 0) break;
            if (y.kind === 'eof') break;
          }
          continue;
        }
        if (isPunct(x, '{') || isPunct(x, '(') || isPunct(x, '[')) d++;
        else if (isPunct(x, '}') || isPunct(x, ')') || isPunct(x, ']')) d--;
        else if (d === 0 && x.kind === 'ident') last = x.text;
        else if (d === 0 && isPunct(x, ';')) break;
        if (x.kind === 'eof') break;
      }
      if (last) typeNames.add(last);
    }
  }
  const toks = lx.tokens;
  let p = 0;
  let depth = 0;
  let pack = 0;
  const packStack: number[] = [];
  let endian: 'le' | 'be' | undefined;
  /** `#pragma scalar_storage_order big-endian` or `#pragma ms_struct on` in effect: structs are refused. */
  let layoutPragma: string | undefined;

  const peek = (o = 0): Token => toks[Math.min(p + o, toks.length - 1)]!;
  const next = (): Token => toks[Math.min(p++, toks.length - 1)]!;
  const at = (text: string, o = 0) => {
    const t = peek(o);
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  };
  const span = (a: Range, b: Range): Range => ({ start: a.start, end: b.end });
  const prevEnd = (): Range => toks[Math.max(0, p - 1)]!.range;
  const error = (range: Range, message: string): never => {
    // A token of an included file sits at the #include line: say where it really is.
    const o = peek().origin;
    diagnostics.push({ range, severity: 'error', message: o && range === peek().range ? `${message} (${o})` : message });
    throw new Bail(message);
  };
  const expect = (s: string): Token => {
    if (at(s)) return next();
    const t = peek();
    return error(t.range, `expected "${s}" but found ${t.kind === 'eof' ? 'end of file' : `"${t.text}"`}`);
  };
  const ident = (what: string): Token => {
    const t = peek();
    if (t.kind === 'ident') return next();
    return error(t.range, `expected ${what} but found ${t.kind === 'eof' ? 'end of file' : `"${t.text}"`}`);
  };
  const enter = () => {
    if (++depth > MAX_DEPTH) error(peek().range, 'nesting too deep');
  };
  const leave = () => void depth--;

  /** Skips to just after the next `;` at this brace depth (or before an unmatched `}`). */
  const recover = (stopAtBrace: boolean) => {
    let d = 0;
    while (peek().kind !== 'eof') {
      const t = peek();
      if (t.kind === 'punct') {
        if (isPunct(t, '{') || isPunct(t, '(') || isPunct(t, '[')) d++;
        else if (isPunct(t, '}') || isPunct(t, ')') || isPunct(t, ']')) {
          if (d === 0 && isPunct(t, '}')) {
            if (stopAtBrace) return;
            next();
            if (at(';')) next();
            return;
          }
          d = Math.max(0, d - 1);
          if (d === 0 && isPunct(t, '}') && !stopAtBrace) {
            next();
            if (at(';')) next();
            return;
          }
        } else if (t.text === ';' && d === 0) {
          next();
          return;
        }
      }
      next();
    }
  };

  // ---------------------------------------------------------------- expressions
  const BIN: Record<string, number> = {
    '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '>': 7, '<=': 7, '>=': 7,
    '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
  };
  /** `noGreater`: inside `offset< … >`, a `>` ends the argument. */
  const expr = (noGreater = false): Expr => {
    enter();
    try {
      const c = binary(1, noGreater);
      if (at('?')) {
        next();
        const a = expr(noGreater);
        expect(':');
        const b = expr(noGreater);
        return { k: 'cond', c, a, b, range: span(c.range, b.range) };
      }
      return c;
    } finally {
      leave();
    }
  };
  let operators = 0;
  const binary = (min: number, noGreater: boolean): Expr => {
    let left = unary(noGreater);
    for (;;) {
      const t = peek();
      const prec = t.kind === 'punct' ? BIN[t.text] : undefined;
      if (prec === undefined || prec < min || (noGreater && (t.text === '>' || t.text === '>>'))) return left;
      if (++operators > MAX_OPERATORS) error(t.range, `expression too long (more than ${MAX_OPERATORS} operators)`);
      next();
      enter();
      const right = binary(prec + 1, noGreater);
      leave();
      left = { k: 'binary', op: t.text, a: left, b: right, range: span(left.range, right.range) };
    }
  };
  const startsType = (o = 0): boolean => {
    const t = peek(o);
    if (t.kind !== 'ident') return false;
    return TYPE_WORDS.has(t.text) || typeNames.has(t.text) || QUALIFIERS.has(t.text) || t.text === 'be' || t.text === 'le';
  };
  const unary = (noGreater: boolean): Expr => {
    const t = peek();
    if (t.kind === 'punct' && ['-', '+', '!', '~', '*', '&'].includes(t.text)) {
      next();
      enter();
      const e = unary(noGreater);
      leave();
      return { k: 'unary', op: t.text, e, range: span(t.range, e.range) };
    }
    if (t.kind === 'punct' && t.text === '(' && startsType(1)) {
      next();
      const type = typeRef();
      expect(')');
      enter();
      const e = unary(noGreater);
      leave();
      return { k: 'cast', type, e, range: span(t.range, e.range) };
    }
    if (t.kind === 'ident' && (t.text === 'sizeof' || t.text === 'alignof' || t.text === '_Alignof' || t.text === '__alignof__')) {
      next();
      if (at('(') && startsType(1)) {
        next();
        const type = typeRef();
        const end = expect(')');
        if (t.text === 'sizeof') return { k: 'sizeof', type, range: span(t.range, end.range) };
        return { k: 'alignof', type, range: span(t.range, end.range) };
      }
      const e = unary(noGreater);
      return { k: 'sizeof', e, range: span(t.range, e.range) };
    }
    if (t.kind === 'ident' && (t.text === 'offsetof' || t.text === '__builtin_offsetof')) {
      next();
      expect('(');
      const type = typeRef();
      expect(',');
      const path: (string | Expr)[] = [ident('a member name').text];
      for (;;) {
        if (at('.')) {
          next();
          path.push(ident('a member name').text);
        } else if (at('[')) {
          next();
          path.push(expr());
          expect(']');
        } else break;
      }
      const end = expect(')');
      return { k: 'offsetof', type, path, range: span(t.range, end.range) };
    }
    return postfix(primary(noGreater));
  };
  const postfix = (e: Expr): Expr => {
    for (;;) {
      if (at('.') || at('->')) {
        next();
        const name = ident('a member name');
        e = { k: 'member', obj: e, name: name.text, range: span(e.range, name.range), nameRange: name.range };
      } else if (at('[') && !(at('[', 1) && peek(1).start === peek().end)) {
        next();
        const index = expr();
        const end = expect(']');
        e = { k: 'index', obj: e, index, range: span(e.range, end.range) };
      } else return e;
    }
  };
  const primary = (_noGreater: boolean): Expr => {
    const t = peek();
    if (t.kind === 'number') {
      next();
      if (t.float !== undefined) return { k: 'float', v: t.float, range: t.range };
      const v = t.value ?? 0n;
      return { k: 'num', v, range: t.range, ct: literalType(t.text, v) };
    }
    if (t.kind === 'char') {
      next();
      return { k: 'num', v: t.value ?? 0n, range: t.range, ct: INT };
    }
    if (t.kind === 'string') {
      next();
      let s = t.text;
      while (peek().kind === 'string') s += next().text;
      return { k: 'str', s, range: t.range };
    }
    if (t.kind === 'ident') {
      next();
      if (t.text === 'true') return { k: 'num', v: 1n, range: t.range };
      if (t.text === 'false') return { k: 'num', v: 0n, range: t.range };
      refs.push({ name: t.text, range: t.range, kind: 'value' });
      return { k: 'name', name: t.text, range: t.range };
    }
    if (t.kind === 'punct' && t.text === '(') {
      next();
      const e = expr();
      expect(')');
      return e;
    }
    return error(t.range, t.kind === 'eof' ? 'expected an expression but found end of file' : `expected an expression but found "${t.text}"`);
  };

  // ---------------------------------------------------------------- attributes
  /** `[[a, b(x)]]` and `__attribute__((packed, aligned(8)))`; also `alignas(N)`. */
  interface Extras {
    attrs: Attr[];
    packed: boolean;
    alignas?: Expr;
    mode?: string;
    /** `__attribute__((vector_size(N)))`: N bytes of the element type. */
    vector?: Expr;
    /** An attribute whose layout the engine does not make (`ms_struct`): the struct is refused. */
    refused?: string;
  }
  const extras = (into: Extras): boolean => {
    let any = false;
    for (;;) {
      if (at('[') && at('[', 1) && peek(1).start === peek().end) {
        any = true;
        next();
        next();
        for (;;) {
          if (at(']')) break;
          const name = ident('an attribute name');
          const args: AttrArg[] = [];
          let end = name.range;
          if (at('(')) {
            next();
            while (!at(')')) {
              const a0 = peek();
              let argName: string | undefined;
              if (a0.kind === 'ident' && at('=', 1)) {
                argName = a0.text;
                next();
                next();
              }
              const e = expr();
              args.push({ name: argName, expr: e, range: span(a0.range, e.range) });
              if (!at(',')) break;
              next();
            }
            end = expect(')').range;
          }
          const attr: Attr = { name: name.text, args, range: span(name.range, end) };
          if (attr.name === 'packed' || attr.name === 'gnu::packed') into.packed = true;
          else into.attrs.push(attr);
          if (!at(',')) break;
          next();
        }
        expect(']');
        expect(']');
        continue;
      }
      if (at('__attribute__') || at('__attribute')) {
        any = true;
        next();
        expect('(');
        expect('(');
        while (!at(')')) {
          const name = ident('an attribute name').text.replace(/^__(.*)__$/, '$1');
          if (name === 'packed') into.packed = true;
          else if (name === 'aligned') {
            if (at('(')) {
              next();
              into.alignas = expr();
              expect(')');
            } else into.alignas = { k: 'num', v: 16n, range: prevEnd() };
          } else if (name === 'mode' && at('(')) {
            next();
            into.mode = ident('a machine mode').text.replace(/^__(.*)__$/, '$1');
            expect(')');
          } else if (name === 'vector_size' && at('(')) {
            next();
            into.vector = expr();
            expect(')');
          } else if (LAYOUT_ATTRS.has(name)) {
            // It changes the layout and the engine does not do it: never a silent difference from
            // gcc. A struct it applies to has no layout (structBody), so nothing decodes through it.
            into.refused = `__attribute__((${name})) changes the layout and is not supported`;
            diagnostics.push({ range: prevEnd(), severity: 'error', message: into.refused });
            if (at('(')) skipParens();
          } else if (at('(')) {
            // Other GNU attributes (unused, nonnull…) carry no layout: skip their arguments.
            let d = 0;
            do {
              const t = next();
              if (isPunct(t, '(')) d++;
              else if (isPunct(t, ')')) d--;
            } while (d > 0 && peek().kind !== 'eof');
          }
          if (!at(',')) break;
          next();
        }
        expect(')');
        expect(')');
        continue;
      }
      if ((at('__asm__') || at('__asm') || at('asm')) && at('(', 1)) {
        // An assembler name (`__asm__ ("stat64")`): nothing for the layout.
        any = true;
        next();
        skipParens();
        continue;
      }
      if (at('alignas') || at('_Alignas')) {
        any = true;
        next();
        expect('(');
        if (startsType()) {
          const type = typeRef();
          into.alignas = { k: 'alignof', type, range: type.range };
        } else into.alignas = expr();
        expect(')');
        continue;
      }
      return any;
    }
  };

  // ---------------------------------------------------------------- types
  const qualifiers = (q: { endian?: 'le' | 'be' }) => {
    for (;;) {
      const t = peek();
      if (t.kind !== 'ident') return;
      if (t.text === '_Atomic' && at('(', 1)) return;
      if (QUALIFIERS.has(t.text)) next();
      else if (t.text === 'be' || t.text === 'le') {
        // `be`/`le` as qualifiers only when a type or a name follows (so a field may be named `le`).
        if (peek(1).kind !== 'ident') return;
        q.endian = t.text;
        next();
      } else return;
    }
  };

  const BUILTIN_WORDS = new Set(['unsigned', 'signed', 'short', 'long', 'int', 'char', 'float', 'double', 'void', 'bool', '_Bool', '__signed__', '__signed', '__int128', '_Complex', '__complex__', '__complex']);
  const typeSpec = (q: { endian?: 'le' | 'be' }, ex: Extras): TypeSpec => {
    qualifiers(q);
    extras(ex);
    qualifiers(q);
    if (at('_Atomic') && at('(', 1)) {
      const kw = next();
      next();
      const ref = typeRef();
      expect(')');
      const spec: TypeSpec = { k: 'ref', ref, atomic: true, range: span(kw.range, prevEnd()) };
      qualifiers(q);
      extras(ex);
      return spec;
    }
    const t = peek();
    if (t.kind !== 'ident') return error(t.range, `expected a type but found ${t.kind === 'eof' ? 'end of file' : `"${t.text}"`}`);
    if (t.text === '__typeof__' || t.text === '__typeof' || t.text === 'typeof' || t.text === 'typeof_unqual') {
      next();
      expect('(');
      if (!startsType()) error(peek().range, `${t.text} of an expression is not supported here: write the type`);
      const ref = typeRef();
      expect(')');
      return { k: 'ref', ref, range: span(t.range, prevEnd()) };
    }
    if (t.text === 'struct' || t.text === 'union') {
      next();
      const union = t.text === 'union';
      extras(ex);
      let tag: Token | undefined;
      if (peek().kind === 'ident' && !NOT_A_NAME.has(peek().text)) {
        tag = next();
        refs.push({ name: tag.text, range: tag.range, kind: 'tag' });
      }
      extras(ex);
      let body: StructDecl | undefined;
      if (at('{')) body = structBody(union, tag, t.range, ex);
      if (!tag && !body) error(peek().range, `expected a ${t.text} name or "{"`);
      return { k: 'struct', union, tag: tag?.text, tagRange: tag?.range, body, range: span(t.range, prevEnd()) };
    }
    if (t.text === 'enum') {
      next();
      const enumEx: Extras = { attrs: [], packed: false };
      extras(enumEx);
      if (at('class') || at('struct')) next();
      let tag: Token | undefined;
      if (peek().kind === 'ident' && !at(':')) {
        tag = next();
        refs.push({ name: tag.text, range: tag.range, kind: 'tag' });
      }
      extras(enumEx);
      let underlying: TypeRef | undefined;
      if (at(':')) {
        next();
        underlying = typeRef();
      }
      let body: EnumDecl | undefined;
      if (at('{')) {
        next();
        const items: EnumItem[] = [];
        while (!at('}') && peek().kind !== 'eof') {
          const name = ident('an enumerator name');
          let value: Expr | undefined;
          if (at('=')) {
            next();
            value = expr();
          }
          items.push({ name: name.text, value, range: span(name.range, prevEnd()) });
          if (!at(',')) break;
          next();
        }
        expect('}');
        extras(enumEx);
        extras(ex);
        body = {
          kind: 'enum', name: tag?.text, nameRange: tag?.range ?? t.range, underlying, items, ...(t.origin ? { origin: t.origin } : {}),
          flags: enumEx.attrs.some((a) => a.name === 'flags') || ex.attrs.some((a) => a.name === 'flags'),
          packed: enumEx.packed || ex.packed, range: span(t.range, prevEnd()),
        };
        decls.push(body);
      }
      if (!tag && !body) error(peek().range, 'expected an enum name or "{"');
      return { k: 'enum', tag: tag?.text, tagRange: tag?.range, body, range: span(t.range, prevEnd()) };
    }
    if (t.text === 'offset' && at('<', 1)) {
      next();
      next();
      const target = typeRef();
      let base: 'segment' | 'self' | Expr = 'segment';
      let width: TypeRef | undefined;
      if (at(',')) {
        next();
        if (at('self')) {
          next();
          base = 'self';
        } else if (at('segment')) {
          next();
        } else base = expr(true);
        if (at(',')) {
          next();
          width = typeRef();
        }
      }
      expect('>');
      return { k: 'offset', target, base, width, range: span(t.range, prevEnd()) };
    }
    if (BUILTIN_WORDS.has(t.text)) {
      const words: string[] = [];
      while (peek().kind === 'ident' && (BUILTIN_WORDS.has(peek().text) || (QUALIFIERS.has(peek().text) && !(at('_Atomic') && at('(', 1))))) {
        const w = next().text;
        if (!QUALIFIERS.has(w)) words.push(w);
        extras(ex);
      }
      return { k: 'named', name: canonical(words), range: span(t.range, prevEnd()) };
    }
    // `float _Complex`-style specifiers after a typedef name are not C; a typedef name stands alone.
    next();
    refs.push({ name: t.text, range: t.range, kind: 'type' });
    return { k: 'named', name: t.text, range: t.range };
  };

  /** A type name as in sizeof/casts/offset arguments: specifier and an abstract declarator. */
  const typeRef = (): TypeRef => {
    const q: { endian?: 'le' | 'be' } = {};
    const ex: Extras = { attrs: [], packed: false };
    const spec = typeSpec(q, ex);
    const d = declarator(true, q, ex);
    return refOf(spec, d.derived, span(spec.range, prevEnd()), ex.mode, ex.vector);
  };

  /** After `(` in a declarator: does it group (`(*p)`) rather than open parameters (`(int)`)? */
  const groups = (o: number): boolean => {
    const t = peek(o);
    if (t.kind === 'punct') return t.text === '*' || t.text === '^' || t.text === '(' || (t.text === '[' && peek(o + 1).text === '[');
    if (t.kind !== 'ident') return false;
    if (t.text === '__attribute__' || t.text === '__attribute') return true;
    return !startsType(o) && t.text !== '...';
  };

  /**
   * A C declarator (C11 §6.7.6): pointers, a name or a parenthesised declarator, then array and
   * function suffixes. `derived` lists the steps from the specifier outward.
   */
  const declarator = (abstract: boolean, q: { endian?: 'le' | 'be' }, ex: Extras): { name?: Token; derived: Derived[] } => {
    enter();
    try {
      extras(ex);
      let ptrs = 0;
      while (at('*') || at('^')) {
        next();
        ptrs++;
        qualifiers(q);
        extras(ex);
      }
      let inner: { name?: Token; derived: Derived[] } | undefined;
      let name: Token | undefined;
      if (at('(') && groups(1)) {
        next();
        inner = declarator(abstract, q, ex);
        expect(')');
      } else if (peek().kind === 'ident' && !NOT_A_NAME.has(peek().text) && !(abstract && startsType())) {
        const t = peek();
        // `uint32_t be x;` / `uint32_t x be;`: the byte order words are not names when a name follows.
        if (!((t.text === 'be' || t.text === 'le') && peek(1).kind === 'ident')) name = next();
      }
      extras(ex);
      const suffixes: Derived[] = [];
      for (;;) {
        if (at('[') && !(at('[', 1) && peek(1).start === peek().end)) {
          next();
          while (peek().kind === 'ident' && (QUALIFIERS.has(peek().text))) next();
          if (at(']')) suffixes.push({ k: 'array', dim: { k: 'num', v: 0n, range: peek().range } });
          else suffixes.push({ k: 'array', dim: expr() });
          expect(']');
        } else if (at('(')) {
          skipParens();
          suffixes.push({ k: 'fn' });
        } else break;
      }
      const derived: Derived[] = [];
      for (let i = 0; i < ptrs; i++) derived.push({ k: 'ptr' });
      for (let i = suffixes.length - 1; i >= 0; i--) derived.push(suffixes[i]!);
      if (inner) derived.push(...inner.derived);
      return { name: inner?.name ?? name, derived };
    } finally {
      leave();
    }
  };

  let tooDeepReported = false;
  const structBody = (union: boolean, tag: Token | undefined, kw: Range, ex: Extras): StructDecl => {
    const open = expect('{');
    const members: MemberDecl[] = [];
    const decl: StructDecl = {
      kind: 'struct', union, name: tag?.text, nameRange: tag?.range ?? kw, members, packed: false, pack: 0, attrs: [], range: span(kw, open.range), ...(open.origin ? { origin: open.origin } : {}),
    };
    if (depth + 1 > MAX_DEPTH - 20) {
      // Too deep: one diagnostic here, the whole body skipped, the type marked as having no layout;
      // the declarations around it keep their results.
      if (!tooDeepReported) diagnostics.push({ range: open.range, severity: 'error', message: `structs nested deeper than ${MAX_DEPTH - 20}: this one is not read` });
      tooDeepReported = true;
      let d = 1;
      while (d > 0 && peek().kind !== 'eof') {
        const t = next();
        if (isPunct(t, '{')) d++;
        else if (isPunct(t, '}')) d--;
      }
      decl.broken = `structs nested deeper than ${MAX_DEPTH - 20}`;
      decl.range = span(kw, prevEnd());
      decls.push(decl);
      return decl;
    }
    enter();
    try {
      while (!at('}') && peek().kind !== 'eof') {
        if (peek().kind === 'pragma') {
          pragma(next());
          continue;
        }
        if (at(';')) {
          next();
          continue;
        }
        try {
          memberDecl(members);
        } catch (e) {
          if (!(e instanceof Bail)) throw e;
          recover(true);
        }
      }
      expect('}');
    } finally {
      leave();
    }
    const after: Extras = { attrs: [], packed: false };
    extras(after);
    const refused = ex.refused ?? after.refused ?? layoutPragma;
    if (refused) {
      decl.broken = `${refused}: ${union ? 'union' : 'struct'} ${tag?.text ?? '(anonymous)'} is not laid out`;
      decl.refused = true;
      members.length = 0;
    }
    decl.packed = ex.packed || after.packed;
    decl.alignas = after.alignas ?? ex.alignas;
    decl.attrs = [...ex.attrs, ...after.attrs];
    decl.pack = pack;
    decl.range = span(kw, prevEnd());
    ex.packed = false;
    ex.alignas = undefined;
    decls.push(decl);
    return decl;
  };

  const memberDecl = (members: MemberDecl[]) => {
    operators = 0;
    const first = peek();
    if (at('static_assert') || at('_Static_assert')) {
      decls.push(staticAssert());
      return;
    }
    const q: { endian?: 'le' | 'be' } = {};
    const ex: Extras = { attrs: [], packed: false };
    const spec = typeSpec(q, ex);
    // Anonymous struct/union member, or a bare nested declaration.
    if (at(';')) {
      next();
      if (spec.k === 'struct' && spec.body && !spec.tag) {
        members.push({ nameRange: spec.range, type: { spec, pointers: 0, dims: [], range: spec.range }, attrs: ex.attrs, packed: false, endian: q.endian ?? endian, range: span(first.range, prevEnd()) });
      }
      return;
    }
    for (;;) {
      const mq = { ...q };
      const mex: Extras = { attrs: [...ex.attrs], packed: ex.packed, alignas: ex.alignas, mode: ex.mode, vector: ex.vector };
      extras(mex);
      qualifiers(mq);
      const dcl = declarator(false, mq, mex);
      const name = dcl.name;
      let bits: Expr | undefined;
      if (at(':')) {
        next();
        bits = expr();
      }
      if (!name && !bits) error(peek().range, `expected a member name but found ${peek().kind === 'eof' ? 'end of file' : `"${peek().text}"`}`);
      // `uint32_t x be;`: byte order after the name.
      if ((at('be') || at('le')) && !['ident', 'number'].includes(peek(1).kind)) mq.endian = next().text as 'be' | 'le';
      qualifiers(mq);
      extras(mex);
      let atExpr: Expr | undefined;
      if (at('@')) {
        next();
        atExpr = expr();
      }
      extras(mex);
      members.push({
        name: name?.text, nameRange: name?.range ?? bits!.range, type: refOf(spec, dcl.derived, span(spec.range, prevEnd()), mex.mode, mex.vector),
        bits, endian: mq.endian ?? endian, at: atExpr, attrs: mex.attrs, alignas: mex.alignas, packed: mex.packed,
        range: span(first.range, prevEnd()),
      });
      if (at(',')) {
        next();
        continue;
      }
      expect(';');
      return;
    }
  };

  const staticAssert = (): Decl => {
    const kw = next();
    expect('(');
    const e = expr();
    let message: string | undefined;
    if (at(',')) {
      next();
      const s = peek();
      if (s.kind === 'string') {
        next();
        message = s.text;
        while (peek().kind === 'string') message += next().text;
      } else error(s.range, 'expected a message string');
    }
    expect(')');
    const end = expect(';');
    return { kind: 'static_assert', expr: e, message, range: span(kw.range, end.range) };
  };

  const pragma = (t: Token) => {
    const m = /^#\s*pragma\s+(\w+)\s*(.*)$/s.exec(t.text);
    const what = m?.[1] ?? '';
    const rest = (m?.[2] ?? '').trim();
    if (what === 'pack') {
      const args = /^\(\s*(.*?)\s*\)$/.exec(rest)?.[1];
      if (args === undefined) {
        diagnostics.push({ range: t.range, severity: 'error', message: '#pragma pack needs parentheses: pack(N), pack(push, N), pack(pop) or pack()' });
        return;
      }
      const parts = args === '' ? [] : args.split(/\s*,\s*/);
      const num = (s: string | undefined): number | undefined => {
        if (s === undefined) return undefined;
        const v = Number(s);
        if (![1, 2, 4, 8, 16].includes(v)) {
          diagnostics.push({ range: t.range, severity: 'error', message: `#pragma pack value must be 1, 2, 4, 8 or 16, not "${s}"` });
          return undefined;
        }
        return v;
      };
      if (parts.length === 0) pack = 0;
      else if (parts[0] === 'push') {
        packStack.push(pack);
        const v = num(parts[1]);
        if (v !== undefined) pack = v;
      } else if (parts[0] === 'pop') {
        pack = packStack.pop() ?? 0;
      } else {
        const v = num(parts[0]);
        if (v !== undefined) pack = v;
      }
      return;
    }
    if (what === 'endian') {
      if (rest === 'little') endian = 'le';
      else if (rest === 'big') endian = 'be';
      else diagnostics.push({ range: t.range, severity: 'error', message: `#pragma endian must be little or big, not "${rest}"` });
      return;
    }
    if (what === 'once') return;
    if (what === 'scalar_storage_order' || what === 'ms_struct') {
      const off = what === 'ms_struct' ? rest === 'off' || rest === 'reset' : rest === 'default';
      layoutPragma = off ? undefined : `#pragma ${what} ${rest} changes the layout and is not supported`;
      if (layoutPragma) diagnostics.push({ range: t.range, severity: 'error', message: layoutPragma });
      return;
    }
    diagnostics.push({ range: t.range, severity: 'warning', message: `unknown pragma "${what}" ignored` });
  };

  // ---------------------------------------------------------------- top level
  const decls: Decl[] = [];
  const variables = new Set<string>();
  const topLevel = () => {
    operators = 0;
    // GNU attributes before a declaration's first word (`__attribute__((visibility("default"))) int
    // f(void);`, `__attribute__((aligned(8))) typedef int T;`) belong to what it declares: a
    // typedef's alignment, machine mode or vector size; nothing for a struct's own layout (gcc
    // ignores them there).
    const lead: Extras = { attrs: [], packed: false };
    while (at('__extension__') || at('__attribute__') || at('__attribute')) {
      if (at('__extension__')) next();
      else extras(lead);
    }
    const t = peek();
    if (t.kind === 'pragma') {
      next();
      pragma(t);
      return;
    }
    if (at(';')) {
      next();
      return;
    }
    if (at('static_assert') || at('_Static_assert')) {
      decls.push(staticAssert());
      return;
    }
    if (at('segment')) {
      const kw = next();
      const name = ident('a segment name');
      let binding: NonNullable<StructDecl['segment']>['binding'];
      if (at('for')) {
        next();
        const how = ident('key, id, posix, memfd, file, anon or magic');
        const quoted: Record<string, string> = { posix: 'a POSIX name in quotes, like posix "/ring"', memfd: 'a memfd name in quotes, like memfd "frames"', file: 'a path in quotes, like file "/var/lib/app/lock.mdb"', anon: 'a command in quotes, like anon of "postgres"' };
        if (how.text in quoted) {
          if (how.text === 'anon' && at('of')) next();
          const s = peek();
          if (s.kind !== 'string') error(s.range, `expected ${quoted[how.text]}`);
          next();
          binding = { kind: how.text as 'posix' | 'memfd' | 'file' | 'anon', value: s.text, range: span(how.range, s.range) };
        } else if (how.text === 'magic' && peek().kind === 'string') {
          const s = next();
          binding = { kind: 'magic', value: s.text, range: span(how.range, s.range) };
        } else if (how.text === 'key' || how.text === 'id' || how.text === 'magic') {
          const e = expr();
          binding = { kind: how.text, value: e, range: span(how.range, e.range) };
        } else error(how.range, `expected key, id, posix, memfd, file, anon or magic after "for", not "${how.text}"`);
      }
      const ex: Extras = { attrs: [], packed: false };
      extras(ex);
      const body = structBody(false, name, kw.range, ex);
      body.segment = { binding };
      body.nameRange = name.range;
      if (at(';')) next();
      return;
    }
    if (at('typedef')) {
      const kw = next();
      const q: { endian?: 'le' | 'be' } = {};
      const ex: Extras = { attrs: [], packed: false };
      const spec = typeSpec(q, ex);
      for (;;) {
        const dex: Extras = { attrs: [], packed: ex.packed, alignas: ex.alignas ?? lead.alignas, mode: ex.mode ?? lead.mode, vector: ex.vector ?? lead.vector };
        const dcl = declarator(false, q, dex);
        if (!dcl.name) error(peek().range, `expected a typedef name but found ${peek().kind === 'eof' ? 'end of file' : `"${peek().text}"`}`);
        const name = dcl.name!;
        extras(dex);
        typeNames.add(name.text);
        decls.push({ kind: 'typedef', name: name.text, nameRange: name.range, type: refOf(spec, dcl.derived, span(spec.range, prevEnd()), dex.mode, dex.vector), packed: dex.packed, alignas: dex.alignas, range: span(kw.range, prevEnd()), ...(name.origin ? { origin: name.origin } : {}) });
        if (at(',')) {
          next();
          continue;
        }
        break;
      }
      expect(';');
      return;
    }
    if (startsType()) {
      const q: { endian?: 'le' | 'be' } = {};
      const ex: Extras = { attrs: [], packed: false };
      const spec = typeSpec(q, ex);
      if (at(';')) {
        next();
        return;
      }
      const hasBody = (spec.k === 'struct' || spec.k === 'enum') && spec.body;
      if (hasBody && (peek().kind === 'eof' || ['struct', 'union', 'enum', 'typedef', 'segment', 'static_assert'].includes(peek().text) || peek().kind === 'pragma')) {
        diagnostics.push({ range: prevEnd(), severity: 'error', message: `expected ";" after the ${spec.k === 'enum' ? 'enum' : spec.union ? 'union' : 'struct'} definition` });
        return;
      }
      // A variable or function declaration: not a type, skipped (headers have them).
      const start = spec.range;
      let d = 0;
      let sawBody = false;
      while (peek().kind !== 'eof') {
        const x = next();
        // A declarator's name at the top (`v` of `v[] = …`, `p` of `*p;`), not a function's.
        if (d === 0 && x.kind === 'ident' && ['=', ';', ',', '['].some((s) => isPunct(peek(), s))) variables.add(x.text);
        if (isPunct(x, '{') || isPunct(x, '(')) d++;
        else if (isPunct(x, '}') || isPunct(x, ')')) {
          d--;
          if (d === 0 && isPunct(x, '}')) {
            sawBody = true;
            if (!at(';')) break;
          }
        } else if (isPunct(x, ';') && d <= 0) break;
      }
      skipped.push({ text: `declaration at line ${start.start.line + 1} (${sawBody ? 'function definition' : 'not a type'})`, range: span(start, prevEnd()) });
      return;
    }
    error(t.range, `expected a declaration (struct, union, enum, typedef, segment, static_assert) but found "${t.text}"`);
  };
  const skipParens = () => {
    let d = 0;
    do {
      const t = next();
      if (isPunct(t, '(')) d++;
      else if (isPunct(t, ')')) d--;
    } while (d > 0 && peek().kind !== 'eof');
  };

  const spans: ParseResult['spans'] = [];
  let guard = 0;
  while (peek().kind !== 'eof' && guard++ < 5_000_000) {
    const before = p;
    const nDecls = decls.length;
    let ok = true;
    try {
      topLevel();
    } catch (e) {
      ok = false;
      if (!(e instanceof Bail)) {
        const msg = e instanceof RangeError ? 'declaration nested too deeply' : `parser failure: ${(e as Error).message}`;
        diagnostics.push({ range: peek().range, severity: 'error', message: msg });
      }
      depth = 0;
      recover(false);
    }
    if (ok && decls.length > nDecls) spans.push({ start: before, end: p, decls: decls.slice(nDecls) });
    if (p === before) next();
  }
  return { decls, defines: lx.defines, macros: lx.macros, diagnostics, skipped, refs, variables, tokens: lx.tokens, comments: lx.comments, spans, included: lx.included, ...(lx.values ? { values: lx.values } : {}), ...(lx.tokenLimit ? { tokenLimit: lx.tokenLimit } : {}) };
}

/** A TypeRef from a declarator: the `pointers` + `dims` form when it has that shape. */
function refOf(spec: TypeSpec, derived: Derived[], range: Range, mode?: string, vector?: Expr): TypeRef {
  let i = 0;
  while (i < derived.length && derived[i]!.k === 'ptr') i++;
  let j = i;
  while (j < derived.length && derived[j]!.k === 'array') j++;
  const base = { ...(mode ? { mode } : {}), ...(vector ? { vector } : {}) };
  if (j === derived.length) return { spec, pointers: i, dims: derived.slice(i).map((d) => (d as { dim: Expr }).dim).reverse(), range, ...base };
  return { spec, pointers: 0, dims: [], derived, range, ...base };
}

/** `unsigned long int` -> `unsigned long`, so builtin names have one spelling. */
function canonical(words: string[]): string {
  words = words.map((w) => (w === '__signed__' || w === '__signed' ? 'signed' : w === '__complex__' || w === '__complex' ? '_Complex' : w));
  const has = (w: string) => words.includes(w);
  const longs = words.filter((w) => w === 'long').length;
  if (has('_Complex')) {
    const base = canonical(words.filter((w) => w !== '_Complex'));
    return `${has('float') || has('double') ? base : words.length === 1 ? 'double' : base} _Complex`;
  }
  if (has('__int128')) return has('unsigned') ? 'unsigned __int128' : '__int128';
  if (has('void')) return 'void';
  if (has('bool') || has('_Bool')) return 'bool';
  if (has('float')) return 'float';
  if (has('double')) return longs ? 'long double' : 'double';
  const u = has('unsigned');
  if (has('char')) return u ? 'unsigned char' : has('signed') ? 'signed char' : 'char';
  if (has('short')) return u ? 'unsigned short' : 'short';
  if (longs >= 2) return u ? 'unsigned long long' : 'long long';
  if (longs === 1) return u ? 'unsigned long' : 'long';
  return u ? 'unsigned int' : 'int';
}
