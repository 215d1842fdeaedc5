// The inspector's page HTML: a strict CSP (nothing but our script and stylesheet, by nonce when
// inlined, by the webview's resource origin otherwise) and no markup built from data: the page
// builds itself from messages.
import { randomBytes } from 'node:crypto';

/** Escapes text and double-quoted attribute values (single quotes stay, as the CSP needs them). */
const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Keeps inlined code from closing its element early (`</script` only occurs in strings and comments). */
const inlined = (code: string, tag: 'script' | 'style') => code.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');

export interface PageAssets {
  /** The page's bundle (dist/webview/main.js) and stylesheet (main.css), inlined under the nonce. */
  script: string;
  style: string;
}

/**
 * `init` travels in a meta tag so the page can ask for its first bytes as soon as its script runs,
 * without first waiting a round trip for the init message (the host still answers `ready`).
 * `first` (the first rows, base64) lets it paint before any round trip at all. With `inline`, the
 * script and stylesheet are part of the page: the webview fetches nothing through its service
 * worker before the first paint. `restUri` is the page's second bundle (dist/webview/rest.js),
 * which the page loads after its first frame, under the same nonce.
 */
export function inspectorHtml(o: { cspSource: string; scriptUri: string; styleUri: string; title: string; init?: object; inline?: PageAssets; first?: { offset: number; base64: string }; restUri?: string }): string {
  const nonce = randomBytes(18).toString('base64');
  const style = o.inline ? `'nonce-${nonce}'` : o.cspSource;
  const csp = [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src ${style}`, `font-src ${o.cspSource}`, `img-src ${o.cspSource}`].join('; ');
  const head = o.inline ? `<style nonce="${escape(nonce)}">\n${inlined(o.inline.style, 'style')}\n</style>` : `<link rel="stylesheet" href="${escape(o.styleUri)}">`;
  const script = o.inline
    ? `<script nonce="${escape(nonce)}">\n${inlined(o.inline.script, 'script')}\n</script>`
    : `<script nonce="${escape(nonce)}" src="${escape(o.scriptUri)}"></script>`;
  const meta = [
    o.init ? `<meta name="shmscope-init" content="${escape(JSON.stringify(o.init))}">` : '',
    o.first ? `<meta name="shmscope-first" data-offset="${o.first.offset}" content="${escape(o.first.base64)}">` : '',
    o.restUri ? `<meta name="shmscope-rest" content="${escape(o.restUri)}">` : '',
  ].filter(Boolean).map((m) => `\n${m}`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escape(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${head}${meta}
<title>${escape(o.title)}</title>
</head>
<body>
${script}
</body>
</html>`;
}
