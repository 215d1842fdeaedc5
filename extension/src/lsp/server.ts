// The .shms language server: diagnostics as you type (debounced), completion, hover with member
// layout, go to definition, document symbols, inlay hints of offsets, formatting. Everything comes
// from the pure schema engine; this file only speaks LSP. Runs as `node dist/server.js --stdio`
// or `shmscope lsp --stdio`.
import {
  CompletionItemKind, createConnection, DiagnosticSeverity, InlayHintKind, ProposedFeatures, SymbolKind, TextDocuments, TextDocumentSyncKind, TextEdit,
  type Connection, type DocumentSymbol,
} from 'vscode-languageserver/node';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { FrameFilter } from './frames';
import {
  compileSchema, completionsAt, definitionAt, formatSchema, hoverAt, inlayHints, symbols, type Completion, type Schema, type SchemaSymbol,
} from '../shared/schema';

/** How long typing must pause before a document is re-checked. */
const DEBOUNCE_MS = 150;

const SYMBOL_KIND: Record<SchemaSymbol['kind'], SymbolKind> = {
  struct: SymbolKind.Struct, union: SymbolKind.Struct, segment: SymbolKind.Module, enum: SymbolKind.Enum, typedef: SymbolKind.TypeParameter,
  define: SymbolKind.Constant, enumerator: SymbolKind.EnumMember, field: SymbolKind.Field,
};
const COMPLETION_KIND: Record<Completion['kind'], CompletionItemKind> = {
  type: CompletionItemKind.Struct, field: CompletionItemKind.Field, keyword: CompletionItemKind.Keyword, attribute: CompletionItemKind.Property,
  pragma: CompletionItemKind.Keyword, constant: CompletionItemKind.Constant, value: CompletionItemKind.Value,
};

/** stdin through the frame filter: a malformed frame is logged and dropped, the server keeps serving. */
function checkedStdin(): NodeJS.ReadableStream {
  const filter = new FrameFilter((m) => process.stderr.write(`shmscope lsp: ${m}\n`));
  process.stdin.pipe(filter);
  // The reader closes the server when its input ends: pass the end on.
  process.stdin.on('end', () => filter.end());
  return filter;
}

export function startServer(connection: Connection = createConnection(ProposedFeatures.all, checkedStdin(), process.stdout)): Connection {
  const documents = new TextDocuments(TextDocument);
  const compiled = new Map<string, { version: number; schema: Schema }>();
  const timers = new Map<string, NodeJS.Timeout>();
  let showInlayHints = true;
  /** `shmscope.schema.includePath`, relative entries resolved against the workspace folder. */
  let includePath: string[] = [];
  let workspaceRoot: string | undefined;
  const setIncludePath = (v: unknown): boolean => {
    if (!Array.isArray(v)) return false;
    const next = v.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => (path.isAbsolute(x.trim()) || !workspaceRoot ? x.trim() : path.join(workspaceRoot, x.trim())));
    if (next.join('\0') === includePath.join('\0')) return false;
    includePath = next;
    return true;
  };

  /** The compiled schema of a document, once per version. */
  const schemaOf = (doc: TextDocument): Schema => {
    const c = compiled.get(doc.uri);
    if (c && c.version === doc.version) return c.schema;
    const schema = compileSchema(doc.getText(), doc.uri, { includePath });
    compiled.set(doc.uri, { version: doc.version, schema });
    return schema;
  };

  const publish = (doc: TextDocument) => {
    const schema = schemaOf(doc);
    void connection.sendDiagnostics({
      uri: doc.uri,
      version: doc.version,
      diagnostics: schema.diagnostics.map((d) => ({
        range: d.range,
        message: d.message,
        source: 'shms',
        severity: d.severity === 'error' ? DiagnosticSeverity.Error : d.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Information,
      })),
    });
  };
  const schedule = (doc: TextDocument, delay: number) => {
    clearTimeout(timers.get(doc.uri));
    timers.set(doc.uri, setTimeout(() => {
      timers.delete(doc.uri);
      const current = documents.get(doc.uri);
      if (current) publish(current);
    }, delay));
  };

  connection.onInitialize((params) => {
    const opts = params.initializationOptions as { inlayHints?: boolean; includePath?: unknown } | undefined;
    if (typeof opts?.inlayHints === 'boolean') showInlayHints = opts.inlayHints;
    const root = params.workspaceFolders?.[0]?.uri ?? params.rootUri;
    if (root?.startsWith('file:')) workspaceRoot = fileURLToPath(root);
    setIncludePath(opts?.includePath);
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: { triggerCharacters: ['.', '[', '(', '#', ' ', '@'] },
        hoverProvider: true,
        definitionProvider: true,
        documentSymbolProvider: true,
        documentFormattingProvider: true,
        inlayHintProvider: true,
      },
      serverInfo: { name: 'shmscope schema language server', version: '0.1.0' },
    };
  });
  connection.onDidChangeConfiguration((change) => {
    const schemaSettings = (change.settings as { shmscope?: { schema?: { inlayHints?: boolean; includePath?: unknown } } } | undefined)?.shmscope?.schema;
    if (setIncludePath(schemaSettings?.includePath)) {
      // Includes resolve differently now: every open document is checked again.
      compiled.clear();
      for (const doc of documents.all()) schedule(doc, 0);
    }
    const v = schemaSettings?.inlayHints;
    if (typeof v === 'boolean' && v !== showInlayHints) {
      showInlayHints = v;
      void connection.languages.inlayHint.refresh().catch(() => undefined);
    }
  });

  documents.onDidOpen((e) => schedule(e.document, 0));
  documents.onDidChangeContent((e) => schedule(e.document, DEBOUNCE_MS));
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    compiled.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  const withDoc = <T>(uri: string, f: (doc: TextDocument, schema: Schema) => T): T | null => {
    const doc = documents.get(uri);
    return doc ? f(doc, schemaOf(doc)) : null;
  };

  connection.onHover((p) => withDoc(p.textDocument.uri, (_d, s) => {
    const h = hoverAt(s, p.position);
    return h ? { contents: { kind: 'markdown', value: h.contents }, range: h.range } : null;
  }));
  connection.onDefinition((p) => withDoc(p.textDocument.uri, (_d, s) => {
    const r = definitionAt(s, p.position);
    return r ? { uri: p.textDocument.uri, range: r } : null;
  }));
  connection.onCompletion((p) => withDoc(p.textDocument.uri, (_d, s) =>
    completionsAt(s, p.position).map((c) => ({
      label: c.label, kind: COMPLETION_KIND[c.kind], detail: c.detail,
      ...(c.insertText ? { insertText: c.insertText, insertTextFormat: 2 as const } : {}),
    }))) ?? []);
  const toSymbol = (x: SchemaSymbol): DocumentSymbol => ({
    name: x.name, kind: SYMBOL_KIND[x.kind], detail: x.detail, range: x.range, selectionRange: x.selectionRange, children: x.children.map(toSymbol),
  });
  connection.onDocumentSymbol((p) => withDoc(p.textDocument.uri, (_d, s) => symbols(s).map(toSymbol)) ?? []);
  connection.languages.inlayHint.on((p) => withDoc(p.textDocument.uri, (_d, s) => {
    if (!showInlayHints) return [];
    return inlayHints(s)
      .filter((h) => h.position.line >= p.range.start.line && h.position.line <= p.range.end.line)
      .map((h) => ({ position: h.position, label: h.label, kind: InlayHintKind.Type, paddingLeft: false }));
  }) ?? []);
  connection.onDocumentFormatting((p) => withDoc(p.textDocument.uri, (doc) => {
    const text = doc.getText();
    const formatted = formatSchema(text, p.options.insertSpaces ? ' '.repeat(p.options.tabSize) : '\t');
    return formatted === text ? [] : [TextEdit.replace({ start: { line: 0, character: 0 }, end: doc.positionAt(text.length) }, formatted)];
  }) ?? []);

  documents.listen(connection);
  connection.listen();
  return connection;
}

// Bundled into dist/cli.js too (for `shmscope lsp`): start on load only as dist/server.js.
if (require.main === module && /server\.[cm]?js$/.test(process.argv[1] ?? '')) startServer();
