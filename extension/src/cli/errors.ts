// Expected failures of a CLI command: printed as one line "shmscope: <message>", exit status 1,
// never with a stack trace.
export class UserError extends Error {
  override readonly name = 'UserError';
}
