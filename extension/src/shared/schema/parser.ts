// Hand-written recursive-descent parser. On an error it reports, skips to the next `;` or `}` at
// the right nesting depth and carries on, so one typo gives one diagnostic and the rest of the
// file still has symbols, hovers and layout.
import type { Attr, AttrArg, Decl, Derived, EnumDecl, EnumItem, Expr, MemberDecl, NameRef, StructDecl, TypeRef, TypeSpec } from './ast';
import { INT, literalType } from './c-int';
import type { Define, Diagnostic, Range, Token } from './lexer';
import { preprocess, type Macro, type PreprocessOptions, type PreprocessResult } from './preprocess';
import { diagnostic } from './diagnostics';

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
  return new Parser(text, knownTypes, options).run();
}

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

/** The type names a parse knows before it starts: `knownTypes`, every tag and every typedef name. */
function typeNamesOf(toks: Token[], knownTypes: ReadonlySet<string>): Set<string> {
  const names = new Set(knownTypes);
  // Tags are types too (C++ style `Header h;`, `sizeof(Header)`), even before their definition.
  for (let i = 0; i + 1 < toks.length; i++) {
    const t = toks[i]!;
    const n = toks[i + 1]!;
    if (t.kind === 'ident' && n.kind === 'ident' && ['struct', 'union', 'enum', 'segment'].includes(t.text)) names.add(n.text);
    if (t.kind === 'ident' && t.text === 'typedef') {
      // The typedef name is the last identifier before the `;` at depth 0.
      let d = 0;
      let last: string | undefined;
      for (let j = i + 1; j < toks.length && j < i + 100_000; j++) {
        const x = toks[j]!;
        if (x.kind === 'ident' && NOT_A_NAME.has(x.text)) {
          // Skip the attribute's parentheses: its words are not the typedef's name.
          let pd = 0;
          for (j++; j < toks.length; j++) {
            const y = toks[j]!;
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
      if (last) names.add(last);
    }
  }
  return names;
}

/** Binary operators' precedence in a schema expression. */
const BIN: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '>': 7, '<=': 7, '>=': 7,
  '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};
const BUILTIN_WORDS = new Set(['unsigned', 'signed', 'short', 'long', 'int', 'char', 'float', 'double', 'void', 'bool', '_Bool', '__signed__', '__signed', '__int128', '_Complex', '__complex__', '__complex']);

/**
 * The engine's third stage, after the preprocessor: one file's text, the known type names and the
 * preprocessor options in (it runs the preprocessor itself), a ParseResult out (the declarations
 * with their spans and name references, the diagnostics, and what the preprocessor found).
 * One parse: the token cursor and what it collects. One method per declaration form (struct body,
 * member, static_assert, pragma, top-level declaration), per type part (specifier, declarator,
 * attributes) and per expression level; an error throws Bail to the top-level loop, which recovers.
 */
class Parser {
  private readonly lx: PreprocessResult;
  private readonly diagnostics: Diagnostic[];
  private readonly refs: NameRef[];
  private readonly skipped: { text: string; range: Range }[];
  private readonly typeNames: Set<string>;
  private readonly toks: Token[];
  private p = 0;
  private depth = 0;
  private pack = 0;
  private readonly packStack: number[] = [];
  private endian: 'le' | 'be' | undefined;
  /** `#pragma scalar_storage_order big-endian` or `#pragma ms_struct on` in effect: structs are refused. */
  private layoutPragma: string | undefined;
  private operators = 0;
  private tooDeepReported = false;
  private readonly decls: Decl[] = [];
  private readonly variables = new Set<string>();
  private readonly spans: ParseResult['spans'] = [];

  constructor(text: string, knownTypes: ReadonlySet<string>, options: PreprocessOptions) {
    this.lx = preprocess(text, options);
    this.diagnostics = [...this.lx.diagnostics];
    this.refs = this.lx.uses.map((u) => ({ name: u.name, range: u.range, kind: 'value' as const }));
    this.skipped = [...this.lx.skipped];
    this.toks = this.lx.tokens;
    this.typeNames = typeNamesOf(this.toks, knownTypes);
  }

  private peek(o = 0): Token {
    return this.toks[Math.min(this.p + o, this.toks.length - 1)]!;
  }
  private next(): Token {
    return this.toks[Math.min(this.p++, this.toks.length - 1)]!;
  }
  private at(text: string, o = 0): boolean {
    const t = this.peek(o);
    return (t.kind === 'punct' || t.kind === 'ident') && t.text === text;
  }
  private span(a: Range, b: Range): Range {
    return { start: a.start, end: b.end };
  }
  private prevEnd(): Range {
    return this.toks[Math.max(0, this.p - 1)]!.range;
  }
  private error(range: Range, message: string): never {
    // A token of an included file sits at the #include line: say where it really is.
    const o = this.peek().origin;
    this.diagnostics.push(diagnostic(range, 'error', o && range === this.peek().range ? `${message} (${o})` : message));
    throw new Bail(message);
  }
  private expect(s: string): Token {
    if (this.at(s)) return this.next();
    const t = this.peek();
    return this.error(t.range, `expected "${s}" but found ${t.kind === 'eof' ? 'end of file' : `"${t.text}"`}`);
  }
  private ident(what: string): Token {
    const t = this.peek();
    if (t.kind === 'ident') return this.next();
    return this.error(t.range, `expected ${what} but found ${t.kind === 'eof' ? 'end of file' : `"${t.text}"`}`);
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.error(this.peek().range, 'nesting too deep');
  }
  private leave(): void {
    this.depth--;
  }
  /** Skips to just after the next `;` at this brace depth (or before an unmatched `}`). */
  private recover(stopAtBrace: boolean): void {
    let d = 0;
    while (this.peek().kind !== 'eof') {
      const t = this.peek();
      if (t.kind === 'punct') {
        if (isPunct(t, '{') || isPunct(t, '(') || isPunct(t, '[')) d++;
        else if (isPunct(t, '}') || isPunct(t, ')') || isPunct(t, ']')) {
          if (d === 0 && isPunct(t, '}')) {
            if (stopAtBrace) return;
            this.next();
            if (this.at(';')) this.next();
            return;
          }
          d = Math.max(0, d - 1);
          if (d === 0 && isPunct(t, '}') && !stopAtBrace) {
            this.next();
            if (this.at(';')) this.next();
            return;
          }
        } else if (t.text === ';' && d === 0) {
          this.next();
          return;
        }
      }
      this.next();
    }
  }
  /** `noGreater`: inside `offset< … >`, a `>` ends the argument. */
  private expr(noGreater = false): Expr {
    this.enter();
    try {
      const c = this.binary(1, noGreater);
      if (this.at('?')) {
        this.next();
        const a = this.expr(noGreater);
        this.expect(':');
        const b = this.expr(noGreater);
        return { k: 'cond', c, a, b, range: this.span(c.range, b.range) };
      }
      return c;
    } finally {
      this.leave();
    }
  }
  private binary(min: number, noGreater: boolean): Expr {
    let left = this.unary(noGreater);
    for (;;) {
      const t = this.peek();
      const prec = t.kind === 'punct' ? BIN[t.text] : undefined;
      if (prec === undefined || prec < min || (noGreater && (t.text === '>' || t.text === '>>'))) return left;
      if (++this.operators > MAX_OPERATORS) this.error(t.range, `expression too long (more than ${MAX_OPERATORS} operators)`);
      this.next();
      this.enter();
      const right = this.binary(prec + 1, noGreater);
      this.leave();
      left = { k: 'binary', op: t.text, a: left, b: right, range: this.span(left.range, right.range) };
    }
  }
  private startsType(o = 0): boolean {
    const t = this.peek(o);
    if (t.kind !== 'ident') return false;
    return TYPE_WORDS.has(t.text) || this.typeNames.has(t.text) || QUALIFIERS.has(t.text) || t.text === 'be' || t.text === 'le';
  }
  private unary(noGreater: boolean): Expr {
    const t = this.peek();
    if (t.kind === 'punct' && ['-', '+', '!', '~', '*', '&'].includes(t.text)) {
      this.next();
      this.enter();
      const e = this.unary(noGreater);
      this.leave();
      return { k: 'unary', op: t.text, e, range: this.span(t.range, e.range) };
    }
    if (t.kind === 'punct' && t.text === '(' && this.startsType(1)) {
      this.next();
      const type = this.typeRef();
      this.expect(')');
      this.enter();
      const e = this.unary(noGreater);
      this.leave();
      return { k: 'cast', type, e, range: this.span(t.range, e.range) };
    }
    if (t.kind === 'ident' && (t.text === 'sizeof' || t.text === 'alignof' || t.text === '_Alignof' || t.text === '__alignof__')) {
      this.next();
      if (this.at('(') && this.startsType(1)) {
        this.next();
        const type = this.typeRef();
        const end = this.expect(')');
        if (t.text === 'sizeof') return { k: 'sizeof', type, range: this.span(t.range, end.range) };
        return { k: 'alignof', type, range: this.span(t.range, end.range) };
      }
      const e = this.unary(noGreater);
      return { k: 'sizeof', e, range: this.span(t.range, e.range) };
    }
    if (t.kind === 'ident' && (t.text === 'offsetof' || t.text === '__builtin_offsetof')) {
      this.next();
      this.expect('(');
      const type = this.typeRef();
      this.expect(',');
      const path: (string | Expr)[] = [this.ident('a member name').text];
      for (;;) {
        if (this.at('.')) {
          this.next();
          path.push(this.ident('a member name').text);
        } else if (this.at('[')) {
          this.next();
          path.push(this.expr());
          this.expect(']');
        } else break;
      }
      const end = this.expect(')');
      return { k: 'offsetof', type, path, range: this.span(t.range, end.range) };
    }
    return this.postfix(this.primary(noGreater));
  }
  private postfix(e: Expr): Expr {
    for (;;) {
      if (this.at('.') || this.at('->')) {
        this.next();
        const name = this.ident('a member name');
        e = { k: 'member', obj: e, name: name.text, range: this.span(e.range, name.range), nameRange: name.range };
      } else if (this.at('[') && !(this.at('[', 1) && this.peek(1).start === this.peek().end)) {
        this.next();
        const index = this.expr();
        const end = this.expect(']');
        e = { k: 'index', obj: e, index, range: this.span(e.range, end.range) };
      } else return e;
    }
  }
  private primary(_noGreater: boolean): Expr {
    const t = this.peek();
    if (t.kind === 'number') {
      this.next();
      if (t.float !== undefined) return { k: 'float', v: t.float, range: t.range };
      const v = t.value ?? 0n;
      return { k: 'num', v, range: t.range, ct: literalType(t.text, v) };
    }
    if (t.kind === 'char') {
      this.next();
      return { k: 'num', v: t.value ?? 0n, range: t.range, ct: INT };
    }
    if (t.kind === 'string') {
      this.next();
      let s = t.text;
      while (this.peek().kind === 'string') s += this.next().text;
      return { k: 'str', s, range: t.range };
    }
    if (t.kind === 'ident') {
      this.next();
      if (t.text === 'true') return { k: 'num', v: 1n, range: t.range };
      if (t.text === 'false') return { k: 'num', v: 0n, range: t.range };
      this.refs.push({ name: t.text, range: t.range, kind: 'value' });
      return { k: 'name', name: t.text, range: t.range };
    }
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      const e = this.expr();
      this.expect(')');
      return e;
    }
    return this.error(t.range, t.kind === 'eof' ? 'expected an expression but found end of file' : `expected an expression but found "${t.text}"`);
  }
  // ---------------------------------------------------------------- attributes
  private extras(into: Extras): boolean {
    let any = false;
    for (;;) {
      if (this.at('[') && this.at('[', 1) && this.peek(1).start === this.peek().end) {
        any = true;
        this.next();
        this.next();
        for (;;) {
          if (this.at(']')) break;
          const name = this.ident('an attribute name');
          const args: AttrArg[] = [];
          let end = name.range;
          if (this.at('(')) {
            this.next();
            while (!this.at(')')) {
              const a0 = this.peek();
              let argName: string | undefined;
              if (a0.kind === 'ident' && this.at('=', 1)) {
                argName = a0.text;
                this.next();
                this.next();
              }
              const e = this.expr();
              args.push({ name: argName, expr: e, range: this.span(a0.range, e.range) });
              if (!this.at(',')) break;
              this.next();
            }
            end = this.expect(')').range;
          }
          const attr: Attr = { name: name.text, args, range: this.span(name.range, end) };
          if (attr.name === 'packed' || attr.name === 'gnu::packed') into.packed = true;
          else into.attrs.push(attr);
          if (!this.at(',')) break;
          this.next();
        }
        this.expect(']');
        this.expect(']');
        continue;
      }
      if (this.at('__attribute__') || this.at('__attribute')) {
        any = true;
        this.next();
        this.expect('(');
        this.expect('(');
        while (!this.at(')')) {
          const name = this.ident('an attribute name').text.replace(/^__(.*)__$/, '$1');
          if (name === 'packed') into.packed = true;
          else if (name === 'aligned') {
            if (this.at('(')) {
              this.next();
              into.alignas = this.expr();
              this.expect(')');
            } else into.alignas = { k: 'num', v: 16n, range: this.prevEnd() };
          } else if (name === 'mode' && this.at('(')) {
            this.next();
            into.mode = this.ident('a machine mode').text.replace(/^__(.*)__$/, '$1');
            this.expect(')');
          } else if (name === 'vector_size' && this.at('(')) {
            this.next();
            into.vector = this.expr();
            this.expect(')');
          } else if (LAYOUT_ATTRS.has(name)) {
            // It changes the layout and the engine does not do it: never a silent difference from
            // gcc. A struct it applies to has no layout (structBody), so nothing decodes through it.
            into.refused = `__attribute__((${name})) changes the layout and is not supported`;
            this.diagnostics.push(diagnostic(this.prevEnd(), 'error', into.refused));
            if (this.at('(')) this.skipParens();
          } else if (this.at('(')) {
            // Other GNU attributes (unused, nonnull…) carry no layout: skip their arguments.
            let d = 0;
            do {
              const t = this.next();
              if (isPunct(t, '(')) d++;
              else if (isPunct(t, ')')) d--;
            } while (d > 0 && this.peek().kind !== 'eof');
          }
          if (!this.at(',')) break;
          this.next();
        }
        this.expect(')');
        this.expect(')');
        continue;
      }
      if ((this.at('__asm__') || this.at('__asm') || this.at('asm')) && this.at('(', 1)) {
        // An assembler name (`__asm__ ("stat64")`): nothing for the layout.
        any = true;
        this.next();
        this.skipParens();
        continue;
      }
      if (this.at('alignas') || this.at('_Alignas')) {
        any = true;
        this.next();
        this.expect('(');
        if (this.startsType()) {
          const type = this.typeRef();
          into.alignas = { k: 'alignof', type, range: type.range };
        } else into.alignas = this.expr();
        this.expect(')');
        continue;
      }
      return any;
    }
  }
  // ---------------------------------------------------------------- types
  private qualifiers(q: { endian?: 'le' | 'be' }): void {
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'ident') return;
      if (t.text === '_Atomic' && this.at('(', 1)) return;
      if (QUALIFIERS.has(t.text)) this.next();
      else if (t.text === 'be' || t.text === 'le') {
        // `be`/`le` as qualifiers only when a type or a name follows (so a field may be named `le`).
        if (this.peek(1).kind !== 'ident') return;
        q.endian = t.text;
        this.next();
      } else return;
    }
  }
  private typeSpec(q: { endian?: 'le' | 'be' }, ex: Extras): TypeSpec {
    this.qualifiers(q);
    this.extras(ex);
    this.qualifiers(q);
    if (this.at('_Atomic') && this.at('(', 1)) {
      const kw = this.next();
      this.next();
      const ref = this.typeRef();
      this.expect(')');
      const spec: TypeSpec = { k: 'ref', ref, atomic: true, range: this.span(kw.range, this.prevEnd()) };
      this.qualifiers(q);
      this.extras(ex);
      return spec;
    }
    const t = this.peek();
    if (t.kind !== 'ident') return this.error(t.range, `expected a type but found ${t.kind === 'eof' ? 'end of file' : `"${t.text}"`}`);
    if (t.text === '__typeof__' || t.text === '__typeof' || t.text === 'typeof' || t.text === 'typeof_unqual') {
      this.next();
      this.expect('(');
      if (!this.startsType()) this.error(this.peek().range, `${t.text} of an expression is not supported here: write the type`);
      const ref = this.typeRef();
      this.expect(')');
      return { k: 'ref', ref, range: this.span(t.range, this.prevEnd()) };
    }
    if (t.text === 'struct' || t.text === 'union') {
      this.next();
      const union = t.text === 'union';
      this.extras(ex);
      let tag: Token | undefined;
      if (this.peek().kind === 'ident' && !NOT_A_NAME.has(this.peek().text)) {
        tag = this.next();
        this.refs.push({ name: tag.text, range: tag.range, kind: 'tag' });
      }
      this.extras(ex);
      let body: StructDecl | undefined;
      if (this.at('{')) body = this.structBody(union, tag, t.range, ex);
      if (!tag && !body) this.error(this.peek().range, `expected a ${t.text} name or "{"`);
      return { k: 'struct', union, tag: tag?.text, tagRange: tag?.range, body, range: this.span(t.range, this.prevEnd()) };
    }
    if (t.text === 'enum') {
      this.next();
      const enumEx: Extras = { attrs: [], packed: false };
      this.extras(enumEx);
      if (this.at('class') || this.at('struct')) this.next();
      let tag: Token | undefined;
      if (this.peek().kind === 'ident' && !this.at(':')) {
        tag = this.next();
        this.refs.push({ name: tag.text, range: tag.range, kind: 'tag' });
      }
      this.extras(enumEx);
      let underlying: TypeRef | undefined;
      if (this.at(':')) {
        this.next();
        underlying = this.typeRef();
      }
      let body: EnumDecl | undefined;
      if (this.at('{')) {
        this.next();
        const items: EnumItem[] = [];
        while (!this.at('}') && this.peek().kind !== 'eof') {
          const name = this.ident('an enumerator name');
          let value: Expr | undefined;
          if (this.at('=')) {
            this.next();
            value = this.expr();
          }
          items.push({ name: name.text, value, range: this.span(name.range, this.prevEnd()) });
          if (!this.at(',')) break;
          this.next();
        }
        this.expect('}');
        this.extras(enumEx);
        this.extras(ex);
        body = {
          kind: 'enum', name: tag?.text, nameRange: tag?.range ?? t.range, underlying, items, ...(t.origin ? { origin: t.origin } : {}),
          flags: enumEx.attrs.some((a) => a.name === 'flags') || ex.attrs.some((a) => a.name === 'flags'),
          packed: enumEx.packed || ex.packed, range: this.span(t.range, this.prevEnd()),
        };
        this.decls.push(body);
      }
      if (!tag && !body) this.error(this.peek().range, 'expected an enum name or "{"');
      return { k: 'enum', tag: tag?.text, tagRange: tag?.range, body, range: this.span(t.range, this.prevEnd()) };
    }
    if (t.text === 'offset' && this.at('<', 1)) {
      this.next();
      this.next();
      const target = this.typeRef();
      let base: 'segment' | 'self' | Expr = 'segment';
      let width: TypeRef | undefined;
      if (this.at(',')) {
        this.next();
        if (this.at('self')) {
          this.next();
          base = 'self';
        } else if (this.at('segment')) {
          this.next();
        } else base = this.expr(true);
        if (this.at(',')) {
          this.next();
          width = this.typeRef();
        }
      }
      this.expect('>');
      return { k: 'offset', target, base, width, range: this.span(t.range, this.prevEnd()) };
    }
    if (BUILTIN_WORDS.has(t.text)) {
      const words: string[] = [];
      while (this.peek().kind === 'ident' && (BUILTIN_WORDS.has(this.peek().text) || (QUALIFIERS.has(this.peek().text) && !(this.at('_Atomic') && this.at('(', 1))))) {
        const w = this.next().text;
        if (!QUALIFIERS.has(w)) words.push(w);
        this.extras(ex);
      }
      return { k: 'named', name: canonical(words), range: this.span(t.range, this.prevEnd()) };
    }
    // `float _Complex`-style specifiers after a typedef name are not C; a typedef name stands alone.
    this.next();
    this.refs.push({ name: t.text, range: t.range, kind: 'type' });
    return { k: 'named', name: t.text, range: t.range };
  }
  /** A type name as in sizeof/casts/offset arguments: specifier and an abstract declarator. */
  private typeRef(): TypeRef {
    const q: { endian?: 'le' | 'be' } = {};
    const ex: Extras = { attrs: [], packed: false };
    const spec = this.typeSpec(q, ex);
    const d = this.declarator(true, q, ex);
    return refOf(spec, d.derived, this.span(spec.range, this.prevEnd()), ex.mode, ex.vector);
  }
  /** After `(` in a declarator: does it group (`(*p)`) rather than open parameters (`(int)`)? */
  private groups(o: number): boolean {
    const t = this.peek(o);
    if (t.kind === 'punct') return t.text === '*' || t.text === '^' || t.text === '(' || (t.text === '[' && this.peek(o + 1).text === '[');
    if (t.kind !== 'ident') return false;
    if (t.text === '__attribute__' || t.text === '__attribute') return true;
    return !this.startsType(o) && t.text !== '...';
  }
  /**
   * A C declarator (C11 §6.7.6): pointers, a name or a parenthesised declarator, then array and
   * function suffixes. `derived` lists the steps from the specifier outward.
   */
  private declarator(abstract: boolean, q: { endian?: 'le' | 'be' }, ex: Extras): { name?: Token; derived: Derived[] } {
    this.enter();
    try {
      this.extras(ex);
      let ptrs = 0;
      while (this.at('*') || this.at('^')) {
        this.next();
        ptrs++;
        this.qualifiers(q);
        this.extras(ex);
      }
      let inner: { name?: Token; derived: Derived[] } | undefined;
      let name: Token | undefined;
      if (this.at('(') && this.groups(1)) {
        this.next();
        inner = this.declarator(abstract, q, ex);
        this.expect(')');
      } else if (this.peek().kind === 'ident' && !NOT_A_NAME.has(this.peek().text) && !(abstract && this.startsType())) {
        const t = this.peek();
        // `uint32_t be x;` / `uint32_t x be;`: the byte order words are not names when a name follows.
        if (!((t.text === 'be' || t.text === 'le') && this.peek(1).kind === 'ident')) name = this.next();
      }
      this.extras(ex);
      const suffixes: Derived[] = [];
      for (;;) {
        if (this.at('[') && !(this.at('[', 1) && this.peek(1).start === this.peek().end)) {
          this.next();
          while (this.peek().kind === 'ident' && (QUALIFIERS.has(this.peek().text))) this.next();
          if (this.at(']')) suffixes.push({ k: 'array', dim: { k: 'num', v: 0n, range: this.peek().range } });
          else suffixes.push({ k: 'array', dim: this.expr() });
          this.expect(']');
        } else if (this.at('(')) {
          this.skipParens();
          suffixes.push({ k: 'fn' });
        } else break;
      }
      const derived: Derived[] = [];
      for (let i = 0; i < ptrs; i++) derived.push({ k: 'ptr' });
      for (let i = suffixes.length - 1; i >= 0; i--) derived.push(suffixes[i]!);
      if (inner) derived.push(...inner.derived);
      return { name: inner?.name ?? name, derived };
    } finally {
      this.leave();
    }
  }
  private structBody(union: boolean, tag: Token | undefined, kw: Range, ex: Extras): StructDecl {
    const open = this.expect('{');
    const members: MemberDecl[] = [];
    const decl: StructDecl = {
      kind: 'struct', union, name: tag?.text, nameRange: tag?.range ?? kw, members, packed: false, pack: 0, attrs: [], range: this.span(kw, open.range), ...(open.origin ? { origin: open.origin } : {}),
    };
    if (this.depth + 1 > MAX_DEPTH - 20) {
      // Too deep: one diagnostic here, the whole body skipped, the type marked as having no layout;
      // the declarations around it keep their results.
      if (!this.tooDeepReported) this.diagnostics.push(diagnostic(open.range, 'error', `structs nested deeper than ${MAX_DEPTH - 20}: this one is not read`));
      this.tooDeepReported = true;
      let d = 1;
      while (d > 0 && this.peek().kind !== 'eof') {
        const t = this.next();
        if (isPunct(t, '{')) d++;
        else if (isPunct(t, '}')) d--;
      }
      decl.broken = `structs nested deeper than ${MAX_DEPTH - 20}`;
      decl.range = this.span(kw, this.prevEnd());
      this.decls.push(decl);
      return decl;
    }
    this.enter();
    try {
      while (!this.at('}') && this.peek().kind !== 'eof') {
        if (this.peek().kind === 'pragma') {
          this.pragma(this.next());
          continue;
        }
        if (this.at(';')) {
          this.next();
          continue;
        }
        try {
          this.memberDecl(members);
        } catch (e) {
          if (!(e instanceof Bail)) throw e;
          this.recover(true);
        }
      }
      this.expect('}');
    } finally {
      this.leave();
    }
    const after: Extras = { attrs: [], packed: false };
    this.extras(after);
    const refused = ex.refused ?? after.refused ?? this.layoutPragma;
    if (refused) {
      decl.broken = `${refused}: ${union ? 'union' : 'struct'} ${tag?.text ?? '(anonymous)'} is not laid out`;
      decl.refused = true;
      members.length = 0;
    }
    decl.packed = ex.packed || after.packed;
    decl.alignas = after.alignas ?? ex.alignas;
    decl.attrs = [...ex.attrs, ...after.attrs];
    decl.pack = this.pack;
    decl.range = this.span(kw, this.prevEnd());
    ex.packed = false;
    ex.alignas = undefined;
    this.decls.push(decl);
    return decl;
  }
  private memberDecl(members: MemberDecl[]): void {
    this.operators = 0;
    const first = this.peek();
    if (this.at('static_assert') || this.at('_Static_assert')) {
      this.decls.push(this.staticAssert());
      return;
    }
    const q: { endian?: 'le' | 'be' } = {};
    const ex: Extras = { attrs: [], packed: false };
    const spec = this.typeSpec(q, ex);
    // Anonymous struct/union member, or a bare nested declaration.
    if (this.at(';')) {
      this.next();
      if (spec.k === 'struct' && spec.body && !spec.tag) {
        members.push({ nameRange: spec.range, type: { spec, pointers: 0, dims: [], range: spec.range }, attrs: ex.attrs, packed: false, endian: q.endian ?? this.endian, range: this.span(first.range, this.prevEnd()) });
      }
      return;
    }
    for (;;) {
      const mq = { ...q };
      const mex: Extras = { attrs: [...ex.attrs], packed: ex.packed, alignas: ex.alignas, mode: ex.mode, vector: ex.vector };
      this.extras(mex);
      this.qualifiers(mq);
      const dcl = this.declarator(false, mq, mex);
      const name = dcl.name;
      let bits: Expr | undefined;
      if (this.at(':')) {
        this.next();
        bits = this.expr();
      }
      if (!name && !bits) this.error(this.peek().range, `expected a member name but found ${this.peek().kind === 'eof' ? 'end of file' : `"${this.peek().text}"`}`);
      // `uint32_t x be;`: byte order after the name.
      if ((this.at('be') || this.at('le')) && !['ident', 'number'].includes(this.peek(1).kind)) mq.endian = this.next().text as 'be' | 'le';
      this.qualifiers(mq);
      this.extras(mex);
      let atExpr: Expr | undefined;
      if (this.at('@')) {
        this.next();
        atExpr = this.expr();
      }
      this.extras(mex);
      members.push({
        name: name?.text, nameRange: name?.range ?? bits!.range, type: refOf(spec, dcl.derived, this.span(spec.range, this.prevEnd()), mex.mode, mex.vector),
        bits, endian: mq.endian ?? this.endian, at: atExpr, attrs: mex.attrs, alignas: mex.alignas, packed: mex.packed,
        range: this.span(first.range, this.prevEnd()),
      });
      if (this.at(',')) {
        this.next();
        continue;
      }
      this.expect(';');
      return;
    }
  }
  private staticAssert(): Decl {
    const kw = this.next();
    this.expect('(');
    const e = this.expr();
    let message: string | undefined;
    if (this.at(',')) {
      this.next();
      const s = this.peek();
      if (s.kind === 'string') {
        this.next();
        message = s.text;
        while (this.peek().kind === 'string') message += this.next().text;
      } else this.error(s.range, 'expected a message string');
    }
    this.expect(')');
    const end = this.expect(';');
    return { kind: 'static_assert', expr: e, message, range: this.span(kw.range, end.range) };
  }
  private pragma(t: Token): void {
    const m = /^#\s*pragma\s+(\w+)\s*(.*)$/s.exec(t.text);
    const what = m?.[1] ?? '';
    const rest = (m?.[2] ?? '').trim();
    if (what === 'pack') {
      const args = /^\(\s*(.*?)\s*\)$/.exec(rest)?.[1];
      if (args === undefined) {
        this.diagnostics.push(diagnostic(t.range, 'error', '#pragma pack needs parentheses: pack(N), pack(push, N), pack(pop) or pack()'));
        return;
      }
      const parts = args === '' ? [] : args.split(/\s*,\s*/);
      const num = (s: string | undefined): number | undefined => {
        if (s === undefined) return undefined;
        const v = Number(s);
        if (![1, 2, 4, 8, 16].includes(v)) {
          this.diagnostics.push(diagnostic(t.range, 'error', `#pragma pack value must be 1, 2, 4, 8 or 16, not "${s}"`));
          return undefined;
        }
        return v;
      };
      if (parts.length === 0) this.pack = 0;
      else if (parts[0] === 'push') {
        this.packStack.push(this.pack);
        const v = num(parts[1]);
        if (v !== undefined) this.pack = v;
      } else if (parts[0] === 'pop') {
        this.pack = this.packStack.pop() ?? 0;
      } else {
        const v = num(parts[0]);
        if (v !== undefined) this.pack = v;
      }
      return;
    }
    if (what === 'endian') {
      if (rest === 'little') this.endian = 'le';
      else if (rest === 'big') this.endian = 'be';
      else this.diagnostics.push(diagnostic(t.range, 'error', `#pragma endian must be little or big, not "${rest}"`));
      return;
    }
    if (what === 'once') return;
    if (what === 'scalar_storage_order' || what === 'ms_struct') {
      const off = what === 'ms_struct' ? rest === 'off' || rest === 'reset' : rest === 'default';
      this.layoutPragma = off ? undefined : `#pragma ${what} ${rest} changes the layout and is not supported`;
      if (this.layoutPragma) this.diagnostics.push(diagnostic(t.range, 'error', this.layoutPragma));
      return;
    }
    this.diagnostics.push(diagnostic(t.range, 'warning', `unknown pragma "${what}" ignored`));
  }
  private topLevel(): void {
    this.operators = 0;
    // GNU attributes before a declaration's first word (`__attribute__((visibility("default"))) int
    // f(void);`, `__attribute__((aligned(8))) typedef int T;`) belong to what it declares: a
    // typedef's alignment, machine mode or vector size; nothing for a struct's own layout (gcc
    // ignores them there).
    const lead: Extras = { attrs: [], packed: false };
    while (this.at('__extension__') || this.at('__attribute__') || this.at('__attribute')) {
      if (this.at('__extension__')) this.next();
      else this.extras(lead);
    }
    const t = this.peek();
    if (t.kind === 'pragma') {
      this.next();
      this.pragma(t);
      return;
    }
    if (this.at(';')) {
      this.next();
      return;
    }
    if (this.at('static_assert') || this.at('_Static_assert')) {
      this.decls.push(this.staticAssert());
      return;
    }
    if (this.at('segment')) {
      const kw = this.next();
      const name = this.ident('a segment name');
      let binding: NonNullable<StructDecl['segment']>['binding'];
      if (this.at('for')) {
        this.next();
        const how = this.ident('key, id, posix, memfd, file, anon or magic');
        const quoted: Record<string, string> = { posix: 'a POSIX name in quotes, like posix "/ring"', memfd: 'a memfd name in quotes, like memfd "frames"', file: 'a path in quotes, like file "/var/lib/app/lock.mdb"', anon: 'a command in quotes, like anon of "postgres"' };
        if (how.text in quoted) {
          if (how.text === 'anon' && this.at('of')) this.next();
          const s = this.peek();
          if (s.kind !== 'string') this.error(s.range, `expected ${quoted[how.text]}`);
          this.next();
          binding = { kind: how.text as 'posix' | 'memfd' | 'file' | 'anon', value: s.text, range: this.span(how.range, s.range) };
        } else if (how.text === 'magic' && this.peek().kind === 'string') {
          const s = this.next();
          binding = { kind: 'magic', value: s.text, range: this.span(how.range, s.range) };
        } else if (how.text === 'key' || how.text === 'id' || how.text === 'magic') {
          const e = this.expr();
          binding = { kind: how.text, value: e, range: this.span(how.range, e.range) };
        } else this.error(how.range, `expected key, id, posix, memfd, file, anon or magic after "for", not "${how.text}"`);
      }
      const ex: Extras = { attrs: [], packed: false };
      this.extras(ex);
      const body = this.structBody(false, name, kw.range, ex);
      body.segment = { binding };
      body.nameRange = name.range;
      if (this.at(';')) this.next();
      return;
    }
    if (this.at('typedef')) {
      const kw = this.next();
      const q: { endian?: 'le' | 'be' } = {};
      const ex: Extras = { attrs: [], packed: false };
      const spec = this.typeSpec(q, ex);
      for (;;) {
        const dex: Extras = { attrs: [], packed: ex.packed, alignas: ex.alignas ?? lead.alignas, mode: ex.mode ?? lead.mode, vector: ex.vector ?? lead.vector };
        const dcl = this.declarator(false, q, dex);
        if (!dcl.name) this.error(this.peek().range, `expected a typedef name but found ${this.peek().kind === 'eof' ? 'end of file' : `"${this.peek().text}"`}`);
        const name = dcl.name;
        this.extras(dex);
        this.typeNames.add(name.text);
        this.decls.push({ kind: 'typedef', name: name.text, nameRange: name.range, type: refOf(spec, dcl.derived, this.span(spec.range, this.prevEnd()), dex.mode, dex.vector), packed: dex.packed, alignas: dex.alignas, range: this.span(kw.range, this.prevEnd()), ...(name.origin ? { origin: name.origin } : {}) });
        if (this.at(',')) {
          this.next();
          continue;
        }
        break;
      }
      this.expect(';');
      return;
    }
    if (this.startsType()) {
      const q: { endian?: 'le' | 'be' } = {};
      const ex: Extras = { attrs: [], packed: false };
      const spec = this.typeSpec(q, ex);
      if (this.at(';')) {
        this.next();
        return;
      }
      const hasBody = (spec.k === 'struct' || spec.k === 'enum') && spec.body;
      if (hasBody && (this.peek().kind === 'eof' || ['struct', 'union', 'enum', 'typedef', 'segment', 'static_assert'].includes(this.peek().text) || this.peek().kind === 'pragma')) {
        this.diagnostics.push(diagnostic(this.prevEnd(), 'error', `expected ";" after the ${spec.k === 'enum' ? 'enum' : spec.union ? 'union' : 'struct'} definition`));
        return;
      }
      // A variable or function declaration: not a type, skipped (headers have them).
      const start = spec.range;
      let d = 0;
      let sawBody = false;
      while (this.peek().kind !== 'eof') {
        const x = this.next();
        // A declarator's name at the top (`v` of `v[] = …`, `p` of `*p;`), not a function's.
        if (d === 0 && x.kind === 'ident' && ['=', ';', ',', '['].some((s) => isPunct(this.peek(), s))) this.variables.add(x.text);
        if (isPunct(x, '{') || isPunct(x, '(')) d++;
        else if (isPunct(x, '}') || isPunct(x, ')')) {
          d--;
          if (d === 0 && isPunct(x, '}')) {
            sawBody = true;
            if (!this.at(';')) break;
          }
        } else if (isPunct(x, ';') && d <= 0) break;
      }
      this.skipped.push({ text: `declaration at line ${start.start.line + 1} (${sawBody ? 'function definition' : 'not a type'})`, range: this.span(start, this.prevEnd()) });
      return;
    }
    this.error(t.range, `expected a declaration (struct, union, enum, typedef, segment, static_assert) but found "${t.text}"`);
  }
  private skipParens(): void {
    let d = 0;
    do {
      const t = this.next();
      if (isPunct(t, '(')) d++;
      else if (isPunct(t, ')')) d--;
    } while (d > 0 && this.peek().kind !== 'eof');
  }

  run(): ParseResult {
    let guard = 0;
    while (this.peek().kind !== 'eof' && guard++ < 5_000_000) {
      const before = this.p;
      const nDecls = this.decls.length;
      let ok = true;
      try {
        this.topLevel();
      } catch (e) {
        ok = false;
        if (!(e instanceof Bail)) {
          const msg = e instanceof RangeError ? 'declaration nested too deeply' : `parser failure: ${(e as Error).message}`;
          this.diagnostics.push(diagnostic(this.peek().range, 'error', msg));
        }
        this.depth = 0;
        this.recover(false);
      }
      if (ok && this.decls.length > nDecls) this.spans.push({ start: before, end: this.p, decls: this.decls.slice(nDecls) });
      if (this.p === before) this.next();
    }
    return { decls: this.decls, defines: this.lx.defines, macros: this.lx.macros, diagnostics: this.diagnostics, skipped: this.skipped, refs: this.refs, variables: this.variables, tokens: this.lx.tokens, comments: this.lx.comments, spans: this.spans, included: this.lx.included, ...(this.lx.values ? { values: this.lx.values } : {}), ...(this.lx.tokenLimit ? { tokenLimit: this.lx.tokenLimit } : {}) };
  }
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
