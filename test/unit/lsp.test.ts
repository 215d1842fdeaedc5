// The .shms language server through a real LSP client over stdio: `node dist/server.js --stdio`,
// and the same server as `shmscope lsp --stdio`.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CompletionRequest, createProtocolConnection, DefinitionRequest, DidChangeTextDocumentNotification, DidOpenTextDocumentNotification,
  DocumentFormattingRequest, DocumentSymbolRequest, HoverRequest, InitializedNotification, InitializeRequest, InlayHintRequest,
  PublishDiagnosticsNotification, ShutdownRequest, ExitNotification, StreamMessageReader, StreamMessageWriter,
  type PublishDiagnosticsParams, type ProtocolConnection, type DocumentSymbol, type CompletionItem, type Hover,
} from 'vscode-languageserver-protocol/node';

const root = path.resolve(import.meta.dirname, '..', '..');
const uri = 'file:///tmp/ring.shms';
const text = `#pragma endian little
struct Header {
    uint32_t magic [[expect(0x474E4952)]];
    uint8_t  kind;
    uint64_t head;
    uint32_t count;
};
segment Ring {
    Header hdr @ 0;
    uint32_t items[hdr.count] @ 64;
};
`;

interface Session {
  child: ChildProcess;
  conn: ProtocolConnection;
  diagnostics: PublishDiagnosticsParams[];
  waiters: ((p: PublishDiagnosticsParams) => void)[];
}

function start(args: string[], stderr: 'inherit' | 'pipe' = 'inherit'): Session {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['pipe', 'pipe', stderr] });
  const conn = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const s: Session = { child, conn, diagnostics: [], waiters: [] };
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    s.diagnostics.push(p);
    for (const w of s.waiters.splice(0)) w(p);
  });
  conn.listen();
  return s;
}

/** Resolves with the first diagnostics for `version` (event-driven, with a deadline). */
function diagnosticsFor(s: Session, version: number, ms = 10_000): Promise<PublishDiagnosticsParams> {
  const have = s.diagnostics.find((d) => d.version === version);
  if (have) return Promise.resolve(have);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no diagnostics for version ${version} within ${ms} ms`)), ms);
    const wait = (p: PublishDiagnosticsParams) => {
      if (p.version === version) {
        clearTimeout(timer);
        resolve(p);
      } else s.waiters.push(wait);
    };
    s.waiters.push(wait);
  });
}

async function initialize(s: Session) {
  const r = await s.conn.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { inlayHints: true } });
  await s.conn.sendNotification(InitializedNotification.type, {});
  return r;
}

async function stop(s: Session) {
  try {
    await s.conn.sendRequest(ShutdownRequest.type);
    await s.conn.sendNotification(ExitNotification.type);
  } catch {
    /* already gone */
  }
  s.conn.dispose();
  if (s.child.exitCode === null) {
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill();
    await exited;
  }
}

before(() => {
  // Under npm test the build happened once before every suite (see ensureBuilt).
  if (process.env.SHMSCOPE_BUILT === '1') return;
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs'), '--no-native'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

describe('language server over stdio (dist/server.js)', () => {
  let s: Session;
  before(async () => {
    s = start(['dist/server.js', '--stdio']);
    const init = await initialize(s);
    assert.ok(init.capabilities.hoverProvider);
    await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'shms', version: 1, text } });
  });
  after(() => stop(s));

  test('a clean document gets empty diagnostics; an error as you type gets one, with its range', async () => {
    assert.deepEqual((await diagnosticsFor(s, 1)).diagnostics, []);
    const broken = text.replace('uint8_t  kind;', 'Nope  kind;');
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [{ text: broken }] });
    const d = (await diagnosticsFor(s, 2)).diagnostics;
    assert.equal(d.length, 1);
    assert.equal(d[0]!.message, 'unknown type "Nope"');
    assert.deepEqual(d[0]!.range, { start: { line: 3, character: 4 }, end: { line: 3, character: 8 } });
    assert.equal(d[0]!.severity, 1);
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 3 }, contentChanges: [{ text }] });
    assert.deepEqual((await diagnosticsFor(s, 3)).diagnostics, []);
  });
  test('hover on a member shows type, offset, size, alignment and padding before it', async () => {
    const h = (await s.conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 4, character: 14 } })) as Hover;
    const md = (h.contents as { value: string }).value;
    assert.match(md, /Header\.head\*\*: `uint64_t`/);
    assert.match(md, /offset 8 \(0x8\) · size 8 · align 8 · 3 bytes of padding before/);
  });
  test('completion: fields after "hdr.", attributes inside [[, types at a member start', async () => {
    const withDot = `${text}// hdr.`;
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 4 }, contentChanges: [{ text: withDot }] });
    await diagnosticsFor(s, 4);
    const fields = (await s.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 11, character: 7 } })) as CompletionItem[];
    assert.deepEqual(fields.map((c) => c.label), ['magic', 'kind', 'head', 'count']);
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 5 }, contentChanges: [{ text }] });
    await diagnosticsFor(s, 5);
    const attrs = (await s.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 2, character: 21 } })) as CompletionItem[];
    for (const a of ['expect', 'checksum', 'seqlock', 'ring', 'format', 'if']) assert.ok(attrs.some((c) => c.label === a), a);
    const types = (await s.conn.sendRequest(CompletionRequest.type, { textDocument: { uri }, position: { line: 5, character: 4 } })) as CompletionItem[];
    for (const t of ['uint32_t', 'Header', 'size_t', 'pid_t']) assert.ok(types.some((c) => c.label === t), t);
  });
  test('document symbols, definition, inlay hints, formatting', async () => {
    const syms = (await s.conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } })) as DocumentSymbol[];
    assert.deepEqual(syms.map((x) => x.name), ['Header', 'Ring']);
    assert.deepEqual(syms[0]!.children!.map((x) => x.name), ['magic', 'kind', 'head', 'count']);
    const def = (await s.conn.sendRequest(DefinitionRequest.type, { textDocument: { uri }, position: { line: 8, character: 6 } })) as { range: unknown };
    assert.deepEqual(def.range, { start: { line: 1, character: 7 }, end: { line: 1, character: 13 } });
    const hints = (await s.conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 20, character: 0 } } })) ?? [];
    assert.deepEqual(hints.slice(0, 4).map((h) => h.label), [' @0', ' @4', ' @8', ' @16']);
    const edits = (await s.conn.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } })) ?? [];
    assert.equal(edits.length, 1);
    assert.match(edits[0]!.newText, /^struct Header \{\n {2}uint32_t magic/m);
  });
});

describe('shmscope check and the server agree', () => {
  test('same messages at the same places', async () => {
    const bad = 'struct A { uint32_t x; Nope y; };\nstruct B { uint8_t z [[format(weird)]]; }\nstatic_assert(sizeof(A) == 3);\n';
    const dir = mkdtempSync(path.join(tmpdir(), 'shms-lsp-'));
    const file = path.join(dir, 'bad.shms');
    const s = start(['dist/server.js', '--stdio']);
    try {
      writeFileSync(file, bad);
      const r = spawnSync(process.execPath, ['dist/cli.js', 'check', '--schema', file, '--json'], { cwd: root, encoding: 'utf8' });
      assert.equal(r.status, 1);
      const fromCli = (JSON.parse(r.stdout) as { message: string; line: number; column: number }[]).map((d) => `${d.line}:${d.column} ${d.message}`);
      await initialize(s);
      await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: 'file:///tmp/bad.shms', languageId: 'shms', version: 1, text: bad } });
      const fromServer = (await diagnosticsFor(s, 1)).diagnostics.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${typeof d.message === 'string' ? d.message : d.message.value}`);
      assert.ok(fromCli.length >= 3, fromCli.join('\n'));
      assert.deepEqual([...fromServer].sort(), [...fromCli].sort());
    } finally {
      await stop(s);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('shmscope lsp --stdio is the same server', () => {
  test('initializes and publishes diagnostics', async () => {
    const s = start(['dist/cli.js', 'lsp', '--stdio']);
    try {
      const init = await initialize(s);
      assert.equal(init.serverInfo?.name, 'shmscope schema language server');
      await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'shms', version: 7, text: 'struct X { int a }' } });
      const d = await diagnosticsFor(s, 7);
      assert.equal(d.diagnostics[0]?.message, 'expected ";" but found "}"');
    } finally {
      await stop(s);
    }
  });
});

describe('malformed frames', () => {
  test('an empty header block, Content-Length: -5 and garbage are logged and dropped; the server keeps answering', async () => {
    const s = start(['dist/server.js', '--stdio'], 'pipe');
    let answered = false;
    let log = '';
    s.child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    try {
      const body = JSON.stringify({ jsonrpc: '2.0', method: 'nothing' });
      s.child.stdin!.write('\r\n\r\n');
      s.child.stdin!.write(`Content-Length: -5\r\n\r\n${body}`);
      s.child.stdin!.write('Content-Length: abc\r\n\r\n');
      const init = await Promise.race([
        initialize(s),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer after the bad frames; log: ${log}`)), 10_000)),
      ]);
      answered = true;
      assert.ok(init.capabilities.hoverProvider);
      await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'shms', version: 1, text } });
      assert.deepEqual((await diagnosticsFor(s, 1)).diagnostics, []);
      assert.match(log, /empty header block/);
      assert.match(log, /Content-Length "-5"/);
      assert.match(log, /Content-Length "abc"/);
    } finally {
      // A server that stopped answering would not answer the shutdown either.
      if (!answered) s.child.kill();
      await stop(s);
    }
  });
});
