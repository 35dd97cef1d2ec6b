// Errors a user sees: the message goes to stderr as is, the exit status is non-zero.

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
