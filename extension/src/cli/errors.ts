// Expected failures of a CLI command: printed as one line "shmscope: <message>", exit status 1,
// never with a stack trace.
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** Exit status of a command whose output a limit cut short (README: exit status). */
export const EXIT_CUT_SHORT = 4;

/**
 * Thrown after a command has written all it was allowed to: the output is complete as far as it
 * goes (valid JSON, every line whole) but a limit left something out. One line on stderr says
 * what and names the option that lifts the limit; exit status EXIT_CUT_SHORT.
 */
export class CutShort extends Error {
  override readonly name = 'CutShort';
}
