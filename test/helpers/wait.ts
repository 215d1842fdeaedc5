// Waiting on a condition, the one way tests wait: poll a probe until it yields a value, failing with
// what was awaited after a deadline. Never a fixed sleep.

/** A probe's answer: a value ends the wait; `undefined` or `false` means "not yet". */
type Probe<T> = () => T | undefined | false | Promise<T | undefined | false>;

/** Returns `until(what, probe, ms?)` whose deadline defaults to `defaultMs`. */
export function untilWithin(defaultMs: number) {
  return async function until<T>(what: string, probe: Probe<T>, ms = defaultMs): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
}
