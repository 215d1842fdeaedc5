// The inspector page's HTML: a strict CSP (nothing but our script, by nonce, and our stylesheet),
// no inline anything, and no data in markup: the page builds itself from messages.
import { randomBytes } from 'node:crypto';

/** Escapes text and double-quoted attribute values (single quotes stay, as the CSP needs them). */
const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `init` travels in a meta tag so the page can ask for its first bytes as soon as its script runs,
 * without first waiting a round trip for the init message (the host still answers `ready`).
 */
export function inspectorHtml(o: { cspSource: string; scriptUri: string; styleUri: string; title: string; init?: object }): string {
  const nonce = randomBytes(18).toString('base64');
  const csp = [`default-src 'none'`, `script-src 'nonce-${nonce}'`, `style-src ${o.cspSource}`, `font-src ${o.cspSource}`, `img-src ${o.cspSource}`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escape(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escape(o.styleUri)}">${o.init ? `\n<meta name="shmscope-init" content="${escape(JSON.stringify(o.init))}">` : ''}
<title>${escape(o.title)}</title>
</head>
<body>
<script nonce="${escape(nonce)}" src="${escape(o.scriptUri)}"></script>
</body>
</html>`;
}
