// The inspector's page HTML (strict CSP, nonce, escaped title) and its package.json contributions
// (every command it registers is contributed in the Shared Memory category with an icon, every
// setting it reads is documented).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { inspectorHtml } from '../../extension/src/inspector/html';

const ROOT = path.resolve(__dirname, '..', '..');

describe('inspector page HTML', () => {
  const html = inspectorHtml({ cspSource: 'https://webview.example', scriptUri: 'https://webview.example/main.js', styleUri: 'https://webview.example/main.css', title: '<img src=x onerror=alert(1)> "seg"' });
  it('has a CSP that allows only our nonce script and our stylesheet', () => {
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /^default-src 'none'; /);
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && nonce.length >= 16, 'a long random nonce');
    assert.match(csp, /style-src https:\/\/webview\.example(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1] ?? '');
    assert.equal(scripts.length, 1);
    assert.ok(scripts[0]!.includes(`nonce="${nonce}"`));
    assert.notEqual(nonce, /script-src 'nonce-([^']+)'/.exec(inspectorHtml({ cspSource: 'a', scriptUri: 'b', styleUri: 'c', title: 'd' }))?.[1], 'a fresh nonce per page');
  });
  it('escapes the title', () => {
    assert.ok(!html.includes('<img'));
    assert.match(html, /<title>&#60;img src=x onerror=alert\(1\)&#62; &#34;seg&#34;<\/title>/);
  });
});

describe('inspector contributions', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const source = readFileSync(path.join(ROOT, 'extension/src/inspector/commands.ts'), 'utf8');
  const registered = [...source.matchAll(/command\('(shmscope\.[\w.]+)'/g)].map((m) => m[1]!);
  it('contributes every registered command, in the Shared Memory category with a codicon', () => {
    assert.ok(registered.length >= 10);
    for (const id of registered) {
      const c = pkg.contributes.commands.find((x: { command: string }) => x.command === id);
      assert.ok(c, `${id} is contributed`);
      assert.equal(c.category, 'Shared Memory', id);
      assert.match(c.icon, /^\$\([a-z-]+\)$/, id);
    }
  });
  it('offers Open Inspector and Open Read-Write on shm and posix-shm items only', () => {
    const menu = pkg.contributes.menus['view/item/context'] as { command: string; when: string }[];
    const when = menu.find((m) => m.command === 'shmscope.openInspectorReadWrite')?.when ?? '';
    const re = new RegExp(/\/(.*)\//.exec(when)?.[1] ?? '^$');
    for (const v of ['shm', 'shm.orphan', 'posix-shm']) assert.ok(re.test(v), v);
    for (const v of ['sem', 'msg', 'posix-sem', 'posix-mq', 'group.shm', 'limit']) assert.ok(!re.test(v), v);
  });
  it('documents the settings it reads, with the defaults the code uses', async () => {
    const props = pkg.contributes.configuration.properties ?? pkg.contributes.configuration.find?.((c: { properties: object }) => 'shmscope.inspector.refreshMs' in c.properties)?.properties;
    const refresh = props['shmscope.inspector.refreshMs'];
    const bpr = props['shmscope.inspector.bytesPerRow'];
    assert.equal(refresh.default, 500);
    assert.equal(bpr.default, 16);
    assert.equal(bpr.minimum, 1);
    assert.equal(bpr.maximum, 64);
    assert.ok(refresh.markdownDescription || refresh.description);
    const { readConfig } = await import('../../extension/src/platform/config');
    const c = readConfig({ get: () => undefined });
    assert.equal(c.inspectorRefreshMs, refresh.default);
    assert.equal(c.bytesPerRow, bpr.default);
    assert.equal(readConfig({ get: <T>(k: string) => (k === 'inspector.bytesPerRow' ? 1000 : undefined) as T }).bytesPerRow, 64, 'clamped');
  });
});
