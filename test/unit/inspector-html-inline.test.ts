// The inspector page with its script and stylesheet inlined and its first rows embedded (the fast
// first paint): the CSP stays strict (both only by a fresh nonce, nothing inline without it, no
// remote origin), inlined code cannot close its element, and the first rows travel as base64.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspectorHtml } from '../../extension/src/inspector/html';

const page = (script = 'console.log(1)', style = 'body{color:red}') =>
  inspectorHtml({
    cspSource: 'https://webview.example',
    scriptUri: 'https://webview.example/main.js',
    styleUri: 'https://webview.example/main.css',
    title: 'segment 1',
    init: { type: 'init', size: 16 },
    inline: { script, style },
    first: { offset: 0, base64: Buffer.from([0xde, 0xad, 0xbe, 0xef]).toString('base64') },
    restUri: 'https://webview.example/rest.js?a=1&b="2"',
  });

describe('inspector page HTML, inlined', () => {
  it('allows only its own nonce for the script and the stylesheet', () => {
    const html = page();
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && nonce.length >= 16);
    assert.match(csp, new RegExp(`style-src 'nonce-${nonce.replace(/[+/=]/g, '\\$&')}'(;|$)`));
    assert.match(csp, /^default-src 'none'; /);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:\/\/(?!webview\.example)/);
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1] ?? '');
    assert.deepEqual(scripts, [` nonce="${nonce}"`], 'one inline script, by nonce, no src');
    const styles = [...html.matchAll(/<style([^>]*)>/g)].map((m) => m[1] ?? '');
    assert.deepEqual(styles, [` nonce="${nonce}"`], 'one inline stylesheet, by nonce');
    assert.ok(!/<link/.test(html), 'nothing fetched');
    assert.match(html, /console\.log\(1\)/);
    assert.match(html, /body\{color:red\}/);
  });

  it('keeps inlined code inside its element', () => {
    const html = page('const s = "</script><img src=x onerror=alert(1)>";', 'a::after{content:"</STYLE><img src=x onerror=alert(2)>"}');
    // An element of raw text ends at the first end tag: all of the code must come before it.
    const script = /<script[^>]*>([\s\S]*?)<\/script>/i.exec(html)?.[1] ?? '';
    assert.match(script, /onerror=alert\(1\)>";\s*$/);
    const style = /<style[^>]*>([\s\S]*?)<\/style>/i.exec(html)?.[1] ?? '';
    assert.match(style, /onerror=alert\(2\)>"}\s*$/);
  });

  it('embeds the first rows as base64 for the first paint', () => {
    const content = /<meta name="shmscope-first" data-offset="0" content="([^"]*)">/.exec(page())?.[1];
    assert.deepEqual([...Buffer.from(content ?? '', 'base64')], [0xde, 0xad, 0xbe, 0xef]);
  });

  it('names the lazily loaded rest of the page in a meta tag, escaped, and the CSP allows it only by nonce', () => {
    const html = page();
    assert.equal(/<meta name="shmscope-rest" content="([^"]*)">/.exec(html)?.[1], 'https://webview.example/rest.js?a=1&#38;b=&#34;2&#34;');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /script-src 'nonce-[^']+'(;|$)/, 'no script origin: the page gives the rest\'s element its own nonce');
  });
});
