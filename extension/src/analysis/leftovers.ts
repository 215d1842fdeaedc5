// What "Clean Up Leftovers…" would remove: the objects of a listing whose verdict (verdict.ts, the
// one answer) is `leftover`, biggest first, with the bytes each frees, and the words of the modal
// that lists them. An object `in use` or `unknown` is never a candidate. Pure TypeScript.
import type { IpcRecord, Listing, NamespaceRef } from '../ipc/types';
import { gcCandidates } from './usage';
import type { Verdict, VerdictFacts } from './verdict';

/** A record with the namespace it was listed in (undefined: ours). */
export type ListedRecord = IpcRecord & { namespace?: NamespaceRef };

export interface Leftover {
  record: ListedRecord;
  verdict: Verdict;
  /** What removing it frees (gc's size of it). */
  bytes: number;
}

/**
 * The leftovers of a listing (ours and other namespaces'), biggest first; `keep` narrows them
 * (the explorer's filter). The candidates are gc's (usage.ts): one answer to "what may go".
 */
export function findLeftovers(l: Listing, facts: VerdictFacts, keep: (r: ListedRecord) => boolean = () => true): Leftover[] {
  return gcCandidates(l, facts)
    .filter(({ record }) => keep(record))
    .map(({ candidate, record }) => ({
      record,
      verdict: { verdict: candidate.verdict, reasons: candidate.reasons, ...(candidate.owner ? { owner: candidate.owner } : {}) },
      bytes: candidate.size,
    }));
}

/**
 * The modal's words: "Remove 2 leftovers, freeing 12 MiB?" and one line per object with its
 * reasons ("posix:/x (4 KiB): no process maps it or holds it open; …"), at most `max` lines.
 */
export function cleanupPrompt(list: readonly Leftover[], name: (r: ListedRecord) => string, size: (bytes: number) => string, max = 30): { message: string; detail: string } {
  const total = list.reduce((a, b) => a + b.bytes, 0);
  const message = `Remove ${list.length} ${list.length === 1 ? 'leftover' : 'leftovers'}, freeing ${size(total)}?`;
  const lines = list.slice(0, max).map((c) => `${name(c.record)} (${size(c.bytes)}): ${c.verdict.reasons.join('; ')}`);
  if (list.length > max) lines.push(`… and ${list.length - max} more (the log lists them all)`);
  lines.push('', 'Only objects nothing maps, holds open or waits on, whose creators are gone, are removed; each is checked again just before.');
  return { message, detail: lines.join('\n') };
}
