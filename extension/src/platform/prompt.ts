// The one prompt helper: asks for one value, checked as it is typed by the same `parse` that
// turns the text into the value, so what is accepted is exactly what is used.
import * as vscode from 'vscode';
import { parseNumber } from '../ipc/target';

export interface AskOptions<T> {
  title: string;
  prompt: string;
  value?: string;
  placeHolder?: string;
  /** The value of a text, or undefined when it is not acceptable. */
  parse: (text: string) => T | undefined;
  /** What to say under the box while the text is not acceptable. */
  invalid: string | ((text: string) => string);
}

/**
 * The value typed, or undefined when the prompt is dismissed. A half-answered prompt must not
 * vanish when focus moves (a webview taking it back), hence ignoreFocusOut.
 */
export async function ask<T>(o: AskOptions<T>): Promise<T | undefined> {
  const text = await vscode.window.showInputBox({
    ignoreFocusOut: true,
    title: o.title,
    prompt: o.prompt,
    ...(o.value !== undefined ? { value: o.value } : {}),
    ...(o.placeHolder !== undefined ? { placeHolder: o.placeHolder } : {}),
    validateInput: (v) => (o.parse(v) === undefined ? (typeof o.invalid === 'string' ? o.invalid : o.invalid(v)) : undefined),
  });
  return text === undefined ? undefined : o.parse(text);
}

/** A number from `min` to `max` (decimal or 0x hex), or undefined. */
export const numberIn = (min: number, max: number) => (v: string): number | undefined => {
  const n = parseNumber(v);
  return n !== undefined && n >= min && n <= max ? n : undefined;
};

/** Any text (the empty text too): for filters, where every answer is acceptable. */
export const anyText = (v: string): string => v;
