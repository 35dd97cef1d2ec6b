// What every allocator returns: the allocation, or the one message the user sees on stderr.
// Failures are values, not exceptions: a rule that cannot be met is an ordinary outcome. A thrown
// RangeError means the caller broke a precondition (a bug), never a user mistake.

export interface Ok<T> {
  ok: true;
  value: T;
}

export interface Failure {
  ok: false;
  /** User-facing text; several lines are joined with `\n`. */
  message: string;
}

export type Result<T> = Ok<T> | Failure;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function fail(...lines: string[]): Failure {
  return { ok: false, message: lines.join('\n') };
}
