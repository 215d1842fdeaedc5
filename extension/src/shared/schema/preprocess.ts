// The C preprocessor of the schema engine (C11 §6.10, with gcc's extensions that headers use):
// conditionals evaluated, object-like and function-like macros expanded (`#`, `##`,
// `__VA_ARGS__`, GNU named variadics and `, ## __VA_ARGS__`), `#include` resolved, `#error` and
// `#warning` as diagnostics, and gcc's x86-64 Linux predefined macros, so that a header pastes or
// imports unchanged. Expansion follows Prosser's algorithm: every token carries the set of macros
// it came out of, and a name in its own set is not expanded again.
//
// Tokens of an included file take the range of the `#include` line of the main file (every
// diagnostic has a range there) and say where they come from in `origin`.
import { evalDirective } from './pp-expr';
import { PREDEFINED } from './pp-predefined';
import { eofToken, MAX_TOKENS, placedToken, TOKEN_LIMIT_MESSAGE, tokenize, type Define, type Diagnostic, type Range, type Token } from './lexer';
import { diagnostic } from './diagnostics';

/** How included files are found and read. The engine's default reads the real file system. */
export interface IncludeHost {
  /** A file's text, or undefined when it cannot be read. */
  read(path: string): string | undefined;
  /** Why `read` gave undefined for a file that is there (a FIFO, too big), if it knows. */
  refused?(path: string): string | undefined;
  /** The compiler's system include folders, in search order. */
  systemDirs(): string[];
}

export interface PreprocessOptions {
  /** The main file (a path or a file: URI): quoted includes start in its folder. */
  uri?: string;
  /** `-I` folders and the `shmscope.schema.includePath` setting, searched before the system. */
  includePath?: string[];
  /** `-D NAME[=VALUE]`: NAME to its value ('' is `1`, as on the command line). */
  defines?: Record<string, string>;
  host?: IncludeHost;
  /** Evaluate the main file's object-like macros at its end (header import's numeric #defines). */
  evaluateDefines?: boolean;
  /**
   * Most tokens of one file and of the preprocessed output (default MAX_TOKENS); macro expansion
   * may produce half as many. Memory grows with it (a token with its place is a few hundred bytes).
   */
  maxTokens?: number;
}

export interface PreprocessResult {
  /** The tokens the parser reads, ending with an eof token. */
  tokens: Token[];
  /** Macros defined in the main file, in order (hover, completion, import). */
  defines: Map<string, Define>;
  /** Every macro defined at the end (import evaluates numeric ones). */
  macros: Map<string, Macro>;
  diagnostics: Diagnostic[];
  /** What a header import leaves out or could not use. */
  skipped: { text: string; range: Range }[];
  comments: Range[];
  /** Macro names expanded in the main file (go to definition). */
  uses: { name: string; range: Range }[];
  /** Files read through `#include`, in order. */
  included: string[];
  /** With `evaluateDefines`: the main file's macros that expand to an integer constant. */
  values?: Map<string, bigint>;
  /** The first diagnostic of a token limit (maxTokens) that cut the input or the output short. */
  tokenLimit?: Diagnostic;
}

export interface Macro {
  name: string;
  params?: string[];
  variadic?: boolean;
  body: Token[];
  range: Range;
  /** Defined by the main file (not predefined, not an included header). */
  main: boolean;
  /** The included file that defines it (`file:line`), when not the main file. */
  origin?: string;
  /** Handled by the preprocessor itself (`__LINE__`, `__has_include`). */
  special?: boolean;
}

const MAX_INCLUDE_DEPTH = 200;
const MAX_EXPANSION_DEPTH = 200;
/**
 * Most steps one compile's preprocessing may take: a token read by the expander, a token a macro
 * produces, a token of an included file. A header that includes itself twice at every level, or a
 * macro that doubles per call, is exponential; this bound keeps its worst case under a second
 * (and its memory to tens of MB), far above what real headers take (<pthread.h> is ~60 000).
 */
export const MAX_PP_WORK = 400_000;
/** What one `#include` directive costs besides its file's tokens (finding it, entering it). */
const INCLUDE_STEPS = 64;

/** The attributes gcc 12 accepts on x86-64 (what `__has_attribute` answers 1 for). */
const GCC_ATTRIBUTES = new Set(('access alias aligned alloc_align alloc_size always_inline artificial assume_aligned cleanup cold common const constructor copy ' +
  'deprecated designated_init destructor error externally_visible fallthrough flatten format format_arg gnu_inline hot ifunc interrupt leaf malloc ' +
  'may_alias mode ms_abi ms_struct gcc_struct no_icf no_instrument_function no_profile_instrument_function no_reorder no_sanitize no_sanitize_address ' +
  'no_sanitize_thread no_sanitize_undefined no_split_stack no_stack_limit no_stack_protector noclone nocommon noinit noinline noipa nonnull nonstring ' +
  'noplt noreturn nothrow optimize packed patchable_function_entry persistent pure regparm retain returns_nonnull returns_twice scalar_storage_order ' +
  'section sentinel simd stack_protect symver sysv_abi target target_clones tls_model transparent_union unavailable unused used vector_size visibility ' +
  'warn_if_not_aligned warn_unused_result warning weak weakref zero_call_used_regs').split(' '));
/** What `__has_builtin` answers 1 for: the builtins the parser implements. */
const IMPLEMENTED_BUILTINS = new Set(['__builtin_offsetof']);
const SPECIAL = ['__FILE__', '__LINE__', '__COUNTER__', '__INCLUDE_LEVEL__', '__BASE_FILE__', '__DATE__', '__TIME__', '__has_include', '__has_include_next', '__has_attribute', '__has_cpp_attribute', '__has_c_attribute', '__has_builtin'];

/** Headers the engine knows without a compiler: their types are builtin. */
const BUILTIN_HEADERS = new Set(['stddef.h', 'stdint.h', 'stdbool.h', 'stdarg.h', 'stdalign.h', 'stdnoreturn.h', 'float.h', 'iso646.h', 'limits.h']);

interface FileState {
  path: string;
  dir: string | undefined;
  /** Index of the include folder it was found in (for `#include_next`). */
  dirIndex: number;
  toks: Token[];
  /** Indices of directive lines (`#` first on a line). */
  i: number;
  main: boolean;
  /** The `#include` range in the main file that brought this file in. */
  at?: Range;
}

/** Tokens of included files, kept across compiles while the host returns the same text. */
const sharedTokens = new Map<string, { text: string; maxTokens: number; tokens: Token[]; diagnostics: Diagnostic[]; cut?: Diagnostic }>();
function tokensOf(path: string, text: string, maxTokens: number): { tokens: Token[]; diagnostics: Diagnostic[]; cut?: Diagnostic } {
  const c = sharedTokens.get(path);
  if (c && c.text === text && c.maxTokens === maxTokens) return c;
  // Line ranges: an included token's place is its #include line and its origin (file:line).
  const r = tokenize(text, maxTokens, true);
  if (sharedTokens.size > 2000) sharedTokens.clear();
  const entry = { text, maxTokens, tokens: r.tokens, diagnostics: r.diagnostics, ...(r.cut ? { cut: r.cut } : {}) };
  sharedTokens.set(path, entry);
  return entry;
}

/**
 * Hide sets, each made once: expansion asks for the same few again and again (a macro's name
 * added to the set of the token that called it, the call's set joined to its body's tokens'), and
 * a new Set per call was most of what a real header set's expansion allocated. Sets are never
 * changed once made, so one can stand for every equal one.
 */
class HideSets {
  private readonly single = new Map<string, ReadonlySet<string>>();
  private readonly added = new WeakMap<ReadonlySet<string>, Map<string, ReadonlySet<string>>>();
  private readonly joined = new WeakMap<ReadonlySet<string>, WeakMap<ReadonlySet<string>, ReadonlySet<string>>>();
  /** {name}. */
  one(name: string): ReadonlySet<string> {
    let s = this.single.get(name);
    if (!s) this.single.set(name, (s = new Set([name])));
    return s;
  }
  /** a ∪ {name}. */
  plus(a: ReadonlySet<string> | undefined, name: string): ReadonlySet<string> {
    if (!a || a.size === 0) return this.one(name);
    if (a.has(name)) return a;
    let m = this.added.get(a);
    if (!m) this.added.set(a, (m = new Map<string, ReadonlySet<string>>()));
    let s = m.get(name);
    if (!s) m.set(name, (s = new Set([...a, name])));
    return s;
  }
  /** a ∪ b. */
  union(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): ReadonlySet<string> {
    if (!a || a.size === 0 || a === b) return b;
    if (b.size === 0) return a;
    let m = this.joined.get(a);
    if (!m) this.joined.set(a, (m = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>()));
    let s = m.get(b);
    if (!s) {
      const u = new Set(a);
      for (const x of b) u.add(x);
      m.set(b, (s = u));
    }
    return s;
  }
}

/** Preprocesses `text` (the main file); never throws. */
export function preprocess(text: string, opts: PreprocessOptions = {}): PreprocessResult {
  return new Preprocessor(text, opts).run();
}

// ------------------------------------------------------------------ macro expansion
/** A token source for the expander: a stack of pushed-back tokens over a stream. */
interface Input {
  next(): Token | undefined;
  peek(): Token | undefined;
  push(toks: Token[]): void;
}

interface Cond {
  active: boolean;
  taken: boolean;
  sawElse: boolean;
  outer: boolean;
  at: Token;
}

/** The tokens of one file up to its next directive line, with pushed-back tokens first. */
function fileInput(file: FileState): Input {
  const toks = file.toks;
  const stack: Token[] = [];
  return {
    next: () => {
      if (stack.length) return stack.pop();
      const t = toks[file.i];
      if (!t || (t.bol && t.kind === 'punct' && t.text === '#')) return undefined;
      file.i++;
      return t;
    },
    peek: () => {
      if (stack.length) return stack[stack.length - 1];
      const t = toks[file.i];
      return !t || (t.bol && t.kind === 'punct' && t.text === '#') ? undefined : t;
    },
    push: (list) => {
      for (let k = list.length - 1; k >= 0; k--) stack.push(list[k]!);
    },
  };
}

const NONE: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/**
 * The engine's second stage, after the lexer: one file's text and the options (include path,
 * -D defines, include host) in, a PreprocessResult out (the expanded tokens the parser reads,
 * the macros, diagnostics, skipped text, uses and included files). It holds one run's state: the
 * macro table, the include stack and the output. One method per directive (define, include,
 * condition, pragma…), per expansion step and per include look-up.
 */
class Preprocessor {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly skipped: { text: string; range: Range }[] = [];
  private readonly uses: { name: string; range: Range }[] = [];
  private readonly macros = new Map<string, Macro>();
  private readonly defines = new Map<string, Define>();
  private readonly out: Token[] = [];
  private readonly included: string[] = [];
  private readonly once = new Set<string>();
  private readonly tokenCache = new Map<string, Token[]>();
  private readonly hideSets = new HideSets();
  private readonly host: IncludeHost | undefined;
  private readonly mainPath: string | undefined;
  private readonly mainDir: string | undefined;
  private systemDirs: string[] | undefined;
  private readonly maxTokens: number;
  /**
   * The work budget: MAX_PP_WORK by default; --max-tokens (opts.maxTokens) sets it too, so a real
   * header set that needs more can be imported whole, and its cut names the option that lifts it.
   */
  private readonly maxWork: number;
  private tokenLimit: Diagnostic | undefined;
  private work = 0;
  private exhausted = false;
  private tooDeep = false;
  private counter = 0;
  private includeDepth = 0;
  /** The file being read. */
  private cur!: FileState;
  /** Where an include is, or undefined, by name, quoting and `next`. */
  private readonly found = new Map<string, { path: string; dirIndex: number } | undefined>();

  constructor(
    private readonly text: string,
    private readonly opts: PreprocessOptions,
  ) {
    this.host = opts.host;
    this.mainPath = pathOf(opts.uri);
    this.mainDir = this.mainPath ? dirname(this.mainPath) : undefined;
    this.maxTokens = opts.maxTokens ?? MAX_TOKENS;
    this.maxWork = opts.maxTokens ?? MAX_PP_WORK;
    for (const s of SPECIAL) this.macros.set(s, { name: s, body: [], range: NONE, main: false, special: true });
  }

  private searchDirs(): string[] {
    return [...(this.opts.includePath ?? []), ...(this.systemDirs ??= this.host?.systemDirs() ?? [])];
  }
  /** Spends `n` steps; false (after one error) once the compile has spent its budget. */
  private spend(n: number, at: Token, what: () => string): boolean {
    this.work += n;
    if (this.work <= this.maxWork && !this.exhausted) return true;
    if (!this.exhausted) this.limitReport(at, `${TOKEN_LIMIT_MESSAGE}: ${what()} needs more than ${this.maxWork} preprocessing steps (an #include or a macro that multiplies itself?): nothing is included or expanded from here`);
    this.exhausted = true;
    return false;
  }
  private where(t: Token): Range {
    return this.cur.main ? t.range : this.cur.at!;
  }
  private here(t: Token): string {
    return this.cur.main ? '' : ` (${this.cur.path}:${t.range.start.line + 1})`;
  }
  private report(t: Token, severity: Diagnostic['severity'], message: string): void {
    // Problems inside system headers are not the user's: only errors are kept, at the #include.
    if (!this.cur.main && severity !== 'error') return;
    this.diagnostics.push(diagnostic(this.where(t), severity, message + this.here(t)));
  }
  /** A token limit: an error, remembered as the first place the input or output was cut. */
  private limitReport(t: Token, message: string): void {
    this.report(t, 'error', message);
    this.tokenLimit ??= this.diagnostics[this.diagnostics.length - 1];
  }
  private listInput(list: Token[]): Input {
    const stack: Token[] = [];
    let i = 0;
    return {
      next: () => (stack.length ? stack.pop() : i < list.length ? list[i++] : undefined),
      peek: () => (stack.length ? stack[stack.length - 1] : list[i]),
      push: (toks) => {
        for (let k = toks.length - 1; k >= 0; k--) stack.push(toks[k]!);
      },
    };
  }
  /** Reads a macro call's arguments after its name; undefined when the `(` has no `)`. */
  private readArgs(inp: Input, m: Macro): { args: Token[][]; close: Token } | undefined {
    inp.next(); // (
    const args: Token[][] = [[]];
    let depth = 0;
    for (;;) {
      const t = inp.next();
      if (!t) return undefined;
      if (t.kind === 'punct') {
        if (t.text === '(') depth++;
        else if (t.text === ')') {
          if (depth === 0) {
            if (m.params && m.params.length === 0 && args.length === 1 && args[0]!.length === 0) args.length = 0;
            return { args, close: t };
          }
          depth--;
        } else if (t.text === ',' && depth === 0 && !(m.variadic && args.length === m.params!.length)) {
          args.push([]);
          continue;
        }
      }
      args[args.length - 1]!.push(t);
    }
  }
  /** `#x`: the argument's spelling as a string literal, `"` and `\` of its literals escaped. */
  private stringize(arg: Token[], at: Token): Token {
    let lit = '';
    arg.forEach((t, i) => {
      if (i > 0 && t.space) lit += ' ';
      lit += t.kind === 'string' || t.kind === 'char' ? (t.raw ?? t.text).replace(/[\\"]/g, '\\$&') : t.text;
    });
    const raw = `"${lit}"`;
    const text = tokenize(raw).tokens[0]?.text ?? lit;
    return { kind: 'string', text, raw, range: at.range, start: at.start, end: at.end, ...(at.origin ? { origin: at.origin } : {}) };
  }
  private paste(a: Token, b: Token, at: Token): Token[] {
    const spell = (t: Token) => (t.kind === 'string' || t.kind === 'char' ? (t.raw ?? t.text) : t.text);
    const r = tokenize(spell(a) + spell(b));
    if (r.tokens.length === 1 && !r.tokens[0]!.bad) {
      const t = r.tokens[0]!;
      return [{ ...t, bol: undefined, space: a.space, range: a.range, start: a.start, end: a.end, hide: a.hide, ...(a.origin ? { origin: a.origin } : {}) }];
    }
    this.report(at, 'error', `pasting "${spell(a)}" and "${spell(b)}" does not give a valid token`);
    return [a, b];
  }
  /** The replacement of one macro call: C11 §6.10.3.1–3. */
  private substitute(m: Macro, args: Token[][], hide: ReadonlySet<string>, at: Token, depth: number): Token[] {
    const params = m.params ?? [];
    const index = (t: Token | undefined) => (t && t.kind === 'ident' && m.params ? params.indexOf(t.text) : -1);
    const expandedArgs = new Map<number, Token[]>();
    const expandedArg = (i: number): Token[] => {
      let e = expandedArgs.get(i);
      if (!e) {
        e = this.expandAll(args[i] ?? [], depth + 1);
        expandedArgs.set(i, e);
      }
      return e;
    };
    const body = m.body;
    const res: Token[] = [];
    let placemarker = false;
    for (let k = 0; k < body.length; k++) {
      const b = body[k]!;
      if (m.params && b.kind === 'punct' && b.text === '#' && index(body[k + 1]) >= 0) {
        res.push(this.stringize(args[index(body[k + 1])] ?? [], at));
        k++;
        placemarker = false;
        continue;
      }
      if (b.kind === 'punct' && b.text === '##' && k + 1 < body.length) {
        const rhs = body[k + 1]!;
        k++;
        const ri = index(rhs);
        const rhsToks = ri >= 0 ? (args[ri] ?? []) : [rhs];
        // GNU: `, ## __VA_ARGS__` drops the comma when there are no variable arguments.
        if (ri === params.length - 1 && m.variadic && res.length && res[res.length - 1]!.text === ',') {
          if (rhsToks.length === 0) res.pop();
          else res.push(...rhsToks);
          placemarker = false;
          continue;
        }
        if (rhsToks.length === 0) continue;
        if (placemarker || res.length === 0) {
          res.push(...rhsToks);
          placemarker = false;
          continue;
        }
        const lhs = res.pop()!;
        res.push(...this.paste(lhs, rhsToks[0]!, at), ...rhsToks.slice(1));
        continue;
      }
      const pi = index(b);
      if (pi >= 0) {
        const pasted = body[k + 1]?.kind === 'punct' && body[k + 1]!.text === '##';
        const arg = pasted ? (args[pi] ?? []) : expandedArg(pi);
        if (this.exhausted || this.work + res.length + arg.length > this.maxWork) {
          this.spend(res.length + arg.length, at, () => `the expansion of ${m.name}`);
          return [];
        }
        placemarker = arg.length === 0;
        for (let j = 0; j < arg.length; j++) {
          const a = arg[j]!;
          res.push(j === 0 ? placedToken(a, a.range, a.hide, a.origin, b.space, a.bol) : a);
        }
        continue;
      }
      placemarker = false;
      res.push(b);
    }
    if (!this.spend(res.length, at, () => `the expansion of ${m.name}`)) return [];
    // Every token of the result gets the call's hide set and the call's place. Neighbours mostly
    // share a hide set: one union for a run of them, not a new Set per token.
    let lastIn: ReadonlySet<string> | undefined;
    let lastOut: ReadonlySet<string> = hide;
    return res.map((t) => {
      if (t.hide !== lastIn || lastIn === undefined) {
        lastIn = t.hide;
        lastOut = this.hideSets.union(t.hide, hide);
      }
      return placedToken(t, at.range, lastOut, at.origin ? at.origin : t.origin, t.space, undefined);
    });
  }
  /** Expands the next macro call of `inp` whose name is `t` (already read); false when `t` is no call. */
  private tryExpand(t: Token, inp: Input, depth: number): boolean {
    if (t.kind !== 'ident') return false;
    const m = this.macros.get(t.text);
    if (!m || t.hide?.has(t.text)) return false;
    if (m.special) {
      const r = this.special(t, m, inp);
      if (!r) return false;
      inp.push(r);
      return true;
    }
    if (this.exhausted) return false;
    if (depth > MAX_EXPANSION_DEPTH) {
      this.report(t, 'error', `macro expansion of ${t.text} nested deeper than ${MAX_EXPANSION_DEPTH}: macros are not expanded from here`);
      this.exhausted = true;
      return false;
    }
    if (this.cur.main && !t.origin) this.uses.push({ name: t.text, range: t.range });
    if (!m.params) {
      inp.push(this.substitute(m, [], this.hideSets.plus(t.hide, t.text), t, depth));
      return true;
    }
    const nx = inp.peek();
    if (!nx || nx.kind !== 'punct' || nx.text !== '(') return false;
    const got = this.readArgs(inp, m);
    if (!got) {
      this.report(t, 'error', `unterminated call of the macro ${t.text}`);
      return true;
    }
    const want = m.params.length;
    const n = got.args.length;
    if (m.variadic ? n < want - 1 : n !== want) {
      this.report(t, 'error', `macro ${t.text} takes ${m.variadic ? `at least ${want - 1}` : want} argument${want === 1 ? '' : 's'}, not ${n}`);
      return true;
    }
    // Prosser: the result's hide set is the call's (name ∩ closing paren) plus the name.
    let hs = this.hideSets.one(t.text);
    if (t.hide && got.close.hide) for (const x of t.hide) if (got.close.hide.has(x)) hs = this.hideSets.plus(hs, x);
    inp.push(this.substitute(m, got.args, hs, t, depth));
    return true;
  }
  /** Fully expands a list in isolation (a macro argument, a directive line). */
  private expandAll(list: Token[], depth = 0): Token[] {
    const inp = this.listInput(list);
    const res: Token[] = [];
    for (let t = inp.next(); t; t = inp.next()) {
      this.work++;
      if (!this.tryExpand(t, inp, depth)) res.push(t);
    }
    return res;
  }
  /**
   * Expands a macro's body as `expandAll` does, for the numeric #defines: undefined as soon as a
   * token comes out that no integer constant has (a name, a string, a floating number, a bad
   * token), so that the many macros that are no number (a type, a call, an ioctl with `sizeof`)
   * are not expanded to their end for nothing.
   */
  private expandConstant(list: Token[]): Token[] | undefined {
    const inp = this.listInput(list);
    const res: Token[] = [];
    for (let t = inp.next(); t; t = inp.next()) {
      this.work++;
      if (this.tryExpand(t, inp, 0)) continue;
      if (t.kind === 'ident' || t.kind === 'string' || t.float !== undefined || t.bad) return undefined;
      res.push(t);
    }
    return res;
  }
  private numTok(v: number | bigint, at: Token): Token {
    return { kind: 'number', text: String(v), value: BigInt(v), range: at.range, start: at.start, end: at.end, hide: at.hide };
  }
  private special(t: Token, m: Macro, inp: Input): Token[] | undefined {
    switch (m.name) {
      case '__LINE__':
        return [this.numTok(t.range.start.line + 1, t)];
      case '__COUNTER__':
        return [this.numTok(this.counter++, t)];
      case '__INCLUDE_LEVEL__':
        return [this.numTok(this.includeDepth, t)];
      case '__FILE__':
      case '__BASE_FILE__': {
        const f = m.name === '__FILE__' ? this.cur.path : (this.mainPath ?? 'schema.shms');
        return [{ kind: 'string', text: f, raw: JSON.stringify(f), range: t.range, start: t.start, end: t.end }];
      }
      case '__DATE__':
      case '__TIME__': {
        const s = m.name === '__DATE__' ? 'Jan  1 1970' : '00:00:00';
        return [{ kind: 'string', text: s, raw: JSON.stringify(s), range: t.range, start: t.start, end: t.end }];
      }
      default: {
        // __has_include(<x.h>) and friends: only meaningful in #if, answered there and here alike.
        const nx = inp.peek();
        if (!nx || nx.text !== '(') return undefined;
        const got = this.readArgs(inp, { ...m, params: ['x'], variadic: true });
        if (!got) return undefined;
        const arg = got.args.flat();
        return [this.numTok(this.hasQuery(m.name, arg, t) ? 1 : 0, t)];
      }
    }
  }
  private hasQuery(name: string, arg: Token[], at: Token): boolean {
    if (name === '__has_include' || name === '__has_include_next') {
      const h = this.headerName(arg);
      if (!h) {
        this.report(at, 'error', `${name} needs a header name`);
        return false;
      }
      return this.find(h.name, h.quoted, name === '__has_include_next') !== undefined;
    }
    const word = arg.map((x) => x.text).join('');
    // The builtins the engine evaluates: a header that tests for another (`__builtin_constant_p`,
    // `__builtin_choose_expr`) takes its fallback, which the engine can read.
    if (name === '__has_builtin') return IMPLEMENTED_BUILTINS.has(word);
    // The attributes gcc 12 has (headers test for newer ones, such as counted_by, and must get 0);
    // C++ attributes are not C's.
    return name !== '__has_cpp_attribute' && GCC_ATTRIBUTES.has(word.replace(/^(gnu::)?__(.*)__$/, '$2').replace(/^gnu::/, ''));
  }
  // ------------------------------------------------------------------ includes
  private headerName(toks: Token[]): { name: string; quoted: boolean } | undefined {
    if (toks.length === 0) return undefined;
    if (toks[0]!.kind === 'string') return { name: toks[0]!.text, quoted: true };
    if (toks[0]!.text === '<') {
      const close = toks.findIndex((x, i) => i > 0 && x.text === '>');
      if (close < 0) return undefined;
      return { name: toks.slice(1, close).map((x) => x.text).join(''), quoted: false };
    }
    return undefined;
  }
  private find(name: string, quoted: boolean, next: boolean): { path: string; dirIndex: number } | undefined {
    const key = `${quoted ? 'q' : 'a'}${next ? this.cur.dirIndex : ''}|${quoted ? this.cur.dir : ''}|${name}`;
    if (this.found.has(key)) return this.found.get(key);
    const r = this.findUncached(name, quoted, next);
    this.found.set(key, r);
    return r;
  }
  private findUncached(name: string, quoted: boolean, next: boolean): { path: string; dirIndex: number } | undefined {
    if (!this.host) return undefined;
    if (name.startsWith('/')) return this.host.read(name) !== undefined ? { path: name, dirIndex: -1 } : undefined;
    const dirs = this.searchDirs();
    if (quoted && !next && this.cur.dir !== undefined) {
      const p = join(this.cur.dir, name);
      if (this.host.read(p) !== undefined) return { path: p, dirIndex: this.cur.dirIndex };
    }
    for (let i = next ? this.cur.dirIndex + 1 : 0; i < dirs.length; i++) {
      const p = join(dirs[i]!, name);
      if (this.host.read(p) !== undefined) return { path: p, dirIndex: i };
    }
    return undefined;
  }
  /** Why a file that is there was not read (a FIFO, too big), looked up where `find` looked. */
  private refusedWhy(name: string, quoted: boolean, next: boolean): string | undefined {
    if (!this.host?.refused) return undefined;
    if (name.startsWith('/')) return this.host.refused(name);
    const dirs = this.searchDirs();
    const candidates = [...(quoted && !next && this.cur.dir !== undefined ? [join(this.cur.dir, name)] : []), ...dirs.slice(next ? this.cur.dirIndex + 1 : 0).map((d) => join(d, name))];
    for (const p of candidates) {
      const why = this.host.refused(p);
      if (why) return why;
    }
    return undefined;
  }
  private include(args: Token[], directive: Token, next: boolean): void {
    // Every #include costs, guarded or not: a header that includes itself twice doubles per level.
    if (!this.spend(INCLUDE_STEPS, directive, () => `#include ${this.directiveText(this.cur, args)}`)) return;
    let h = this.headerName(args);
    if (!h) h = this.headerName(this.expandAll(args));
    if (!h) {
      this.report(directive, 'error', '#include expects "FILE" or <FILE>');
      return;
    }
    const found = this.find(h.name, h.quoted, next);
    const range = this.where(directive);
    if (!found) {
      const why = this.refusedWhy(h.name, h.quoted, next);
      if (why) {
        this.report(directive, 'error', `cannot read the include file ${h.quoted ? `"${h.name}"` : `<${h.name}>`}: ${why}`);
        return;
      }
      if (BUILTIN_HEADERS.has(h.name)) {
        if (this.cur.main) this.skipped.push({ text: `#include ${h.quoted ? `"${h.name}"` : `<${h.name}>`} (its types are builtin)`, range });
        return;
      }
      this.report(directive, 'error', `cannot find the include file ${h.quoted ? `"${h.name}"` : `<${h.name}>`}${this.host ? ` (searched ${[...(h.quoted && this.cur.dir ? [this.cur.dir] : []), ...this.searchDirs()].join(', ') || 'nowhere'})` : ''}`);
      return;
    }
    if (this.once.has(found.path) || this.exhausted) return;
    if (this.includeDepth >= MAX_INCLUDE_DEPTH) {
      if (!this.tooDeep) this.report(directive, 'error', `#include nested deeper than ${MAX_INCLUDE_DEPTH}`);
      this.tooDeep = true;
      return;
    }
    let toks = this.tokenCache.get(found.path);
    if (!toks) {
      const r = tokensOf(found.path, this.host!.read(found.path) ?? '', this.maxTokens);
      for (const d of r.diagnostics) {
        const at = { ...directive, range: d.range };
        const message = `${d.message} in ${found.path}`;
        if (d === r.cut) this.limitReport(at, message);
        else this.report(at, d.severity, message);
      }
      toks = r.tokens;
      this.tokenCache.set(found.path, toks);
    }
    if (!this.spend(toks.length, directive, () => `#include ${h.quoted ? `"${h.name}"` : `<${h.name}>`}`)) return;
    if (!this.included.includes(found.path)) this.included.push(found.path);
    const saved = this.cur;
    this.includeDepth++;
    try {
      this.runFile({ path: found.path, dir: dirname(found.path), dirIndex: found.dirIndex, toks, i: 0, main: false, at: range });
    } finally {
      this.includeDepth--;
      this.cur = saved;
    }
  }
  // ------------------------------------------------------------------ directives
  private define(line: Token[], directive: Token): void {
    const name = line[0];
    if (!name || name.kind !== 'ident') {
      this.report(directive, 'error', '#define needs a macro name');
      return;
    }
    if (name.text === 'defined') {
      this.report(name, 'error', '"defined" cannot be a macro name');
      return;
    }
    const m: Macro = { name: name.text, body: [], range: this.where(name), main: this.cur.main, ...(this.cur.main ? {} : { origin: `${this.cur.path}:${name.range.start.line + 1}` }) };
    let k = 1;
    if (line[1] && line[1].text === '(' && line[1].start === name.end && !line[1].space) {
      const params: string[] = [];
      k = 2;
      for (;;) {
        const t = line[k];
        if (!t) {
          this.report(directive, 'error', `missing ")" in the parameters of ${name.text}`);
          return;
        }
        k++;
        if (t.text === ')' && params.length === 0) break;
        if (t.text === '...') {
          params.push('__VA_ARGS__');
          m.variadic = true;
        } else if (t.kind === 'ident') {
          params.push(t.text);
          if (line[k]?.text === '...') {
            m.variadic = true;
            k++;
          }
        } else {
          this.report(t, 'error', `"${t.text}" may not appear in the parameters of ${name.text}`);
          return;
        }
        const sep = line[k++];
        if (sep?.text === ')') break;
        if (sep?.text !== ',' || m.variadic) {
          this.report(sep ?? directive, 'error', `expected "," or ")" in the parameters of ${name.text}`);
          return;
        }
      }
      m.params = params;
    }
    m.body = line.slice(k).map((t, i) => (i === 0 ? placedToken(t, t.range, t.hide, t.origin, false, undefined) : t));
    const prev = this.macros.get(name.text);
    if (prev?.special) {
      this.report(name, 'warning', `${name.text} is builtin; the #define is ignored`);
      return;
    }
    if (prev && this.cur.main && prev.main && !sameMacro(prev, m)) this.report(name, 'warning', `${name.text} redefined (the previous definition is at line ${prev.range.start.line + 1})`);
    this.macros.set(name.text, m);
    if (this.cur.main) {
      this.defines.delete(name.text);
      this.defines.set(name.text, { name: name.text, tokens: m.body, range: name.range, ...(m.params ? { params: m.params } : {}) });
    }
  }
  /** `#if` / `#elif`: `defined` first, then macros, then `__has_*`, then identifiers are 0. */
  private condition(line: Token[], directive: Token): boolean {
    const pre: Token[] = [];
    for (let k = 0; k < line.length; k++) {
      const t = line[k]!;
      if (t.kind === 'ident' && t.text === 'defined') {
        let nameTok = line[k + 1];
        let skip = 1;
        if (nameTok?.text === '(') {
          nameTok = line[k + 2];
          skip = line[k + 3]?.text === ')' ? 3 : -1;
        }
        if (!nameTok || nameTok.kind !== 'ident' || skip < 0) {
          this.report(directive, 'error', '"defined" needs a macro name');
          return false;
        }
        pre.push(this.numTok(this.macros.has(nameTok.text) ? 1 : 0, t));
        k += skip;
        continue;
      }
      pre.push(t);
    }
    const expanded = this.expandAll(pre);
    for (const t of expanded) if (t.bad) {
      this.report(t, 'error', t.bad);
      return false;
    }
    const r = evalDirective(expanded, (n) => this.macros.has(n));
    if ('error' in r) {
      this.report(directive, 'error', `#${directive.text === '#' ? 'if' : directive.text}: ${r.error}`);
      return false;
    }
    return r.value !== 0n;
  }
  private directiveText(file: FileState, line: Token[]): string {
    return line.map((t, i) => (i > 0 && t.space ? ' ' : '') + (t.raw ?? t.text)).join('');
  }
  // ------------------------------------------------------------------ one file
  private runFile(file: FileState): void {
    this.cur = file;
    const toks = file.toks;
    const conds: Cond[] = [];
    let active = true;
    const inp = fileInput(file);
    let originLine = -1;
    let origin = '';
    const emit = (t: Token) => {
      if (t.bad) this.report(t, 'error', t.bad);
      if (file.main) this.out.push(t);
      else {
        if (!t.origin && t.range.start.line !== originLine) {
          originLine = t.range.start.line;
          origin = `${file.path}:${originLine + 1}`;
        }
        this.out.push(placedToken(t, file.at!, t.hide, t.origin ?? origin, t.space, t.bol));
      }
    };
    while (file.i < toks.length) {
      const t = toks[file.i]!;
      if (t.bol && t.kind === 'punct' && t.text === '#') {
        let j = file.i + 1;
        while (j < toks.length && !toks[j]!.bol) j++;
        const word = toks[file.i + 1];
        const line = toks.slice(file.i + 2, j);
        const hashTok = t;
        const startAt = file.i;
        file.i = j;
        if (!word || j === startAt + 1) continue; // the null directive
        const w = word.kind === 'ident' ? word.text : word.kind === 'number' ? 'line' : '';
        const cond = this.conditional(w, line, word, conds, active);
        if (cond !== undefined) {
          active = cond;
          continue;
        }
        if (!active) continue;
        this.directive(w, file, line, word, hashTok);
        continue;
      }
      if (!active) {
        // Skip to the next directive line.
        let j = file.i + 1;
        while (j < toks.length && !(toks[j]!.bol && toks[j]!.text === '#' && toks[j]!.kind === 'punct')) j++;
        file.i = j;
        continue;
      }
      // Text: read a token (pushed-back expansions first) and expand it, or pass it on.
      for (let x = inp.next(); x; x = inp.next()) {
        if (!this.tryExpand(x, inp, 0)) emit(x);
        if (this.out.length > this.maxTokens) {
          this.limitReport(x, `${TOKEN_LIMIT_MESSAGE} after preprocessing: more than ${this.maxTokens}, the rest is not read`);
          file.i = toks.length;
          break;
        }
      }
    }
    // One error for the innermost, not one per level (a file cut at 1 024 nested #if).
    const open = conds[conds.length - 1];
    if (open) this.report(open.at, 'error', `#${open.at.text} without #endif${conds.length > 1 ? ` (inside ${conds.length - 1} more)` : ''}`);
  }
  /** `#if`…`#endif`: the new "active" after a conditional directive `w`, or undefined for another directive. */
  private conditional(w: string, line: Token[], word: Token, conds: Cond[], active: boolean): boolean | undefined {
    if (w === 'if' || w === 'ifdef' || w === 'ifndef') {
      let v = false;
      if (active) {
        if (w === 'if') v = this.condition(line, word);
        else {
          const n = line[0];
          if (!n || n.kind !== 'ident') this.report(word, 'error', `#${w} needs a macro name`);
          else v = this.macros.has(n.text) === (w === 'ifdef');
        }
      }
      conds.push({ active: v, taken: v, sawElse: false, outer: active, at: word });
      active = active && v;
      return active;
    }
    if (w === 'elif' || w === 'else' || w === 'elifdef' || w === 'elifndef') {
      const c = conds[conds.length - 1];
      if (!c) {
        this.report(word, 'error', `#${w} without #if`);
        return active;
      }
      if (c.sawElse) this.report(word, 'error', `#${w} after #else`);
      if (w === 'else') {
        c.sawElse = true;
        c.active = c.outer && !c.taken;
      } else if (!c.outer || c.taken) c.active = false;
      else if (w === 'elif') c.active = this.condition(line, word);
      else {
        const n = line[0];
        c.active = !!n && this.macros.has(n.text) === (w === 'elifdef');
      }
      c.taken ||= c.active;
      active = c.active;
      return active;
    }
    if (w === 'endif') {
      const c = conds.pop();
      if (!c) this.report(word, 'error', '#endif without #if');
      else active = c.outer;
      return active;
    }
    return undefined;
  }

  /** One directive other than a conditional, in an active group. */
  private directive(w: string, file: FileState, line: Token[], word: Token, hashTok: Token): void {
    switch (w) {
      case 'define':
        this.define(line, word);
        break;
      case 'undef':
        if (line[0]?.kind === 'ident') {
          if (this.macros.get(line[0].text)?.special) break;
          this.macros.delete(line[0].text);
          if (file.main) this.defines.delete(line[0].text);
        } else this.report(word, 'error', '#undef needs a macro name');
        break;
      case 'include':
      case 'include_next':
      case 'import':
        this.include(line, word, w === 'include_next');
        this.cur = file;
        break;
      case 'error':
      case 'warning':
        this.report(word, w === 'error' ? 'error' : 'warning', `#${w} ${this.directiveText(file, line)}`.trim());
        break;
      case 'pragma': {
        const what = line[0]?.text;
        if (what === 'once') this.once.add(file.path);
        else if (what === 'pack' || what === 'endian' || file.main) {
          const p: Token = { kind: 'pragma', text: `#pragma ${this.directiveText(file, line)}`, range: this.where(hashTok), start: hashTok.start, end: hashTok.end };
          this.out.push(file.main ? p : { ...p, origin: `${file.path}:${hashTok.range.start.line + 1}` });
        }
        break;
      }
      case 'line':
      case 'ident':
      case 'sccs':
      case 'assert':
      case 'unassert':
        break;
      default:
        this.report(word, 'warning', `unknown directive "#${this.directiveText(file, [word, ...line])}" ignored`);
    }
  }

  // ------------------------------------------------------------------ run
  private virtual(src: string, path: string): void {
    const file: FileState = { path, dir: undefined, dirIndex: -1, toks: tokenize(src).tokens, i: 0, main: false, at: NONE };
    this.runFile(file);
  }

  run(): PreprocessResult {
    this.virtual(PREDEFINED, '<built-in>');
    if (this.opts.defines) {
      const lines = Object.entries(this.opts.defines).map(([k, v]) => `#define ${k} ${v === '' ? '1' : v}`);
      this.virtual(lines.join('\n'), '<command-line>');
    }
    const main = tokenize(this.text, this.maxTokens);
    this.diagnostics.push(...main.diagnostics);
    this.tokenLimit ??= main.cut;
    this.runFile({ path: this.mainPath ?? 'schema.shms', dir: this.mainDir, dirIndex: -1, toks: main.tokens, i: 0, main: true });
    const values = this.opts.evaluateDefines ? this.evaluateDefines() : undefined;
    const tokens = pragmaOperators(this.out);
    const end = main.tokens[main.tokens.length - 1];
    tokens.push(eofToken(end ? { start: end.range.end, end: end.range.end } : NONE, this.text.length));
    return { tokens, defines: this.defines, macros: this.macros, diagnostics: this.diagnostics, skipped: this.skipped, comments: main.comments, uses: this.uses, included: this.included, ...(values ? { values } : {}), ...(this.tokenLimit ? { tokenLimit: this.tokenLimit } : {}) };
  }

  /** The values of the object-like macros that evaluate to a number (import's constants). */
  private evaluateDefines(): Map<string, bigint> {
    const values = new Map<string, bigint>();
    // The main file's macros, then those of its included headers (import keeps the user's own
    // headers' ones, and a system header's, as it keeps their types); not the predefined ones.
    const own = [...this.macros.values()].filter((m) => m.origin && !m.origin.startsWith('<'));
    for (const [name, d] of [...this.defines, ...own.map((m) => [m.name, { tokens: m.body, params: m.params }] as const)]) {
      if (d.params || d.tokens.length === 0 || values.has(name)) continue;
      const toks = this.expandConstant(d.tokens);
      if (!toks) continue;
      const r = evalDirective(toks, (n) => this.macros.has(n), true);
      if ('value' in r) values.set(name, r.value);
    }
    return values;
  }
}

/** `_Pragma("pack(1)")` becomes the directive it stands for (C11 §6.10.9). */
function pragmaOperators(toks: Token[]): Token[] {
  if (!toks.some((t) => t.kind === 'ident' && t.text === '_Pragma')) return toks;
  const res: Token[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind === 'ident' && t.text === '_Pragma' && toks[i + 1]?.text === '(' && toks[i + 2]?.kind === 'string' && toks[i + 3]?.text === ')') {
      const body = toks[i + 2]!.text.trim();
      if (/^(pack|endian)\b/.test(body)) res.push({ kind: 'pragma', text: `#pragma ${body}`, range: t.range, start: t.start, end: t.end });
      i += 3;
      continue;
    }
    res.push(t);
  }
  return res;
}

function sameMacro(a: Macro, b: Macro): boolean {
  if ((a.params?.join(',') ?? null) !== (b.params?.join(',') ?? null) || a.body.length !== b.body.length) return false;
  return a.body.every((t, i) => t.text === b.body[i]!.text);
}

/** A file path from a path or a `file:` URI; undefined for other URIs (untitled:, …). */
function pathOf(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  if (uri.startsWith('file:')) {
    try {
      return decodeURIComponent(new URL(uri).pathname);
    } catch {
      return undefined;
    }
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(uri)) return undefined;
  return uri;
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
}

function join(dir: string, name: string): string {
  const raw = dir === '' || dir === '.' ? name : `${dir.replace(/\/+$/, '')}/${name}`;
  // Normalise a/./b and a/x/../b so that one file has one name (`#pragma once`, caches).
  const parts: string[] = [];
  for (const s of raw.split('/')) {
    if (s === '.' || (s === '' && parts.length > 0)) continue;
    if (s === '..' && parts.length > 0 && parts[parts.length - 1] !== '..' && parts[parts.length - 1] !== '') parts.pop();
    else parts.push(s);
  }
  return parts.join('/') || '/';
}
