// The one escaper of untrusted text on its way to a person: names in /dev/shm, command lines,
// decoded strings, schema identifiers. A control character in a name (`evil\e[31m…\nfake-row`)
// would otherwise recolour a terminal or forge a row for whoever reads the output, root included.

/**
 * Returns `text` with every character that moves the cursor, changes colours or reorders text
 * written as a visible escape: C0 and C1 controls and DEL as `\xHH` (`\n`, `\r`, `\t` as
 * themselves escaped), bidirectional overrides and line separators as `\u{HHHH}`. A backslash
 * becomes `\\`, so the escaped form is unambiguous. Printable text is unchanged.
 */
export function escapeControl(text: string): string {
  // Fast path: most names have nothing to escape.
  // eslint-disable-next-line no-control-regex
  if (!/[\x00-\x1f\x7f-\x9f\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/.test(text)) return text;
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0x061c || c === 0x200e || c === 0x200f || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
      out += `\\u{${c.toString(16)}}`;
    } else out += ch;
  }
  return out;
}
