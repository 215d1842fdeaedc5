/// <reference types="mocha" />
// In the extension host of a real workbench: a .shms file gets its language, the language server
// (started by vscode-languageclient) diagnoses it as the user types, and hover tells a member's
// layout. Waits on diagnostics events and provider answers, never on time.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { compileSchema } from '../../../extension/src/shared/schema';
import { untilWithin } from '../../helpers/wait';

const dir = mkdtempSync(path.join(os.tmpdir(), 'shmscope-schema-'));

/** Resolves with the diagnostics of `uri` once `accept` likes them (or fails after `ms`). */
function diagnosticsOf(uri: vscode.Uri, accept: (d: readonly vscode.Diagnostic[]) => boolean, ms = 30_000): Promise<readonly vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const d = vscode.languages.getDiagnostics(uri);
      if (!accept(d)) return false;
      sub.dispose();
      clearTimeout(timer);
      resolve(d);
      return true;
    };
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`diagnostics of ${uri.fsPath} never matched; last: ${JSON.stringify(vscode.languages.getDiagnostics(uri).map((x) => x.message))}`));
    }, ms);
    check();
  });
}

suiteTeardown(async () => {
  await vscode.workspace.getConfiguration('shmscope').update('schema.includePath', undefined, vscode.ConfigurationTarget.Global);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  rmSync(dir, { recursive: true, force: true });
});

suite('schema language', () => {
  test('a .shms file is diagnosed as the user types, and fixed when the error is', async () => {
    const file = path.join(dir, 'ring.shms');
    writeFileSync(file, 'struct Header {\n    uint32_t magic;\n    uint16_t version;\n    uint16_t flags;\n};\nstatic_assert(sizeof(Header) == 8);\n');
    const doc = await vscode.workspace.openTextDocument(file);
    const editor = await vscode.window.showTextDocument(doc);
    assert.equal(doc.languageId, 'shms');
    await diagnosticsOf(doc.uri, (d) => d.length === 0);

    // Type an unknown type: the server reports it at that place.
    await editor.edit((e) => e.insert(new vscode.Position(3, 4), 'widget_t count;\n    '));
    const bad = await diagnosticsOf(doc.uri, (d) => d.some((x) => /widget_t/.test(x.message)));
    const diag = bad.find((x) => /widget_t/.test(x.message))!;
    assert.equal(diag.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(diag.range.start.line, 3);

    // Undo it: the diagnostics clear.
    await vscode.commands.executeCommand('undo');
    await diagnosticsOf(doc.uri, (d) => d.length === 0);
  });

  test('a failed static_assert is an error on its line', async () => {
    const file = path.join(dir, 'assert.shms');
    writeFileSync(file, 'struct S { uint8_t a; uint32_t b; };\nstatic_assert(sizeof(S) == 5);\n');
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const d = await diagnosticsOf(doc.uri, (x) => x.length > 0);
    assert.equal(d[0]!.range.start.line, 1);
  });

  test('hover over a member shows its offset and size', async () => {
    const file = path.join(dir, 'hover.shms');
    writeFileSync(file, 'struct Slot {\n    uint8_t  tag;\n    uint64_t t_ns;\n};\n');
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    await diagnosticsOf(doc.uri, (d) => d.length === 0);
    const pos = new vscode.Position(2, 14); // on "t_ns"
    const text = async () => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
      return (hovers ?? [])
        .flatMap((h) => h.contents)
        .map((c) => (typeof c === 'string' ? c : 'value' in c ? c.value : ''))
        .join('\n');
    };
    const hover = await text();
    assert.match(hover, /t_ns/);
    assert.match(hover, /offset\D*8/i, hover);
    assert.match(hover, /size\D*8/i, hover);
  });
  test('Import C Header as Schema… writes a schema through shmscope import; #include follows shmscope.schema.includePath', async () => {
    const inc = path.join(dir, 'inc');
    mkdirSync(inc, { recursive: true });
    writeFileSync(path.join(inc, 'common.h'), '#pragma once\n#include <stdint.h>\ntypedef struct stats { uint64_t produced, dropped; } stats_t;\n');
    const header = path.join(dir, 'wire.h');
    writeFileSync(header, '#include <common.h>\n#define PACKED __attribute__((packed))\n#define SLOTS 16\nstruct wire { uint8_t kind; uint32_t value; stats_t s; } PACKED;\nint wire_open(void);\n');
    await vscode.workspace.getConfiguration('shmscope').update('schema.includePath', [inc], vscode.ConfigurationTarget.Global);
    const target = path.join(dir, 'wire.shms');
    await vscode.commands.executeCommand('shmscope.importHeader', vscode.Uri.file(header), vscode.Uri.file(target));
    assert.ok(existsSync(target), 'the schema was written');
    const text = readFileSync(target, 'utf8');
    assert.match(text, /#define SLOTS 16/);
    assert.doesNotMatch(text, /wire_open|#include/);
    const again = compileSchema(text, target);
    assert.deepEqual(again.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
    assert.equal(again.types.get('wire')?.size, 21);
    // The opened schema is clean for the language server too.
    await untilWithin(15_000)('the imported schema is opened', () => vscode.window.activeTextEditor?.document.uri.fsPath === target);
    await diagnosticsOf(vscode.Uri.file(target), (d) => d.length === 0);

    // A schema that includes the header resolves it through the setting, as the server sees it.
    const uses = path.join(dir, 'uses.shms');
    writeFileSync(uses, '#include <common.h>\nstruct use { stats_t s; };\nstatic_assert(sizeof(struct use) == 16);\n');
    const doc = await vscode.workspace.openTextDocument(uses);
    await vscode.window.showTextDocument(doc);
    await diagnosticsOf(doc.uri, (d) => d.length === 0);
  });
  test('Import Types from a Program… writes the types of a program built with -g through shmscope import', async function () {
    const ext = vscode.extensions.getExtension('shmscope.shmscope')!.extensionPath;
    if (!existsSync(path.join(ext, 'native', 'build', 'Release', 'shmscope_dwarf.node'))) return this.skip();
    const src = path.join(dir, 'prog.c');
    writeFileSync(src, '#include <stdint.h>\nstruct frame { uint8_t kind; uint64_t t_ns; uint16_t len : 12; } f;\nint main(void) { return f.kind; }\n');
    const exe = path.join(dir, 'prog');
    execFileSync('cc', ['-g', '-o', exe, src]);
    const target = path.join(dir, 'frame.shms');
    await vscode.commands.executeCommand('shmscope.importProgram', exe, ['frame'], vscode.Uri.file(target));
    const again = compileSchema(readFileSync(target, 'utf8'), target);
    assert.deepEqual(again.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
    assert.equal(again.types.get('frame')?.size, 24);
    await untilWithin(15_000)('the imported schema is opened', () => vscode.window.activeTextEditor?.document.uri.fsPath === target);
    await diagnosticsOf(vscode.Uri.file(target), (d) => d.length === 0);
  });
});
