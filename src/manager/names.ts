// Naming rules of the Logical Domains Manager (ldm-cli.md §1.1).

import { UserError } from './errors.js';

/** Domain, service, vnet and vdisk names: a letter or digit, then letters, digits or -_+#.:;~() */
const NAME = /^[A-Za-z0-9][A-Za-z0-9\-_+#.:;~()]*$/;
export const MAX_NAME = 256;
/** The SP stores configuration names of at most 64 characters (1.x/2.x). */
export const MAX_SPCONFIG_NAME = 64;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME && NAME.test(name);
}

export function checkName(kind: string, name: string): void {
  if (!isValidName(name)) {
    throw new UserError(
      `Invalid ${kind} name: ${name}\n` +
        `A ${kind} name must start with a letter or a digit and may contain only letters, digits and the characters -_+#.:;~()`,
    );
  }
}

/** Variable names: first character a letter, digit or `/`; then letters, digits or punctuation. */
export function isValidVariableName(name: string): boolean {
  return /^[A-Za-z0-9/][\x21-\x3c\x3e-\x7e]*$/.test(name);
}

export function checkSpconfigName(name: string): void {
  if (!name || name.length > MAX_SPCONFIG_NAME || !/^[A-Za-z0-9/][\x21-\x7e]*$/.test(name)) {
    throw new UserError('Error: Operation failed because an invalid configuration name was given');
  }
}

/** Parse a non-negative decimal integer operand; null when malformed. */
export function parseCount(text: string): number | null {
  if (!/^\d{1,9}$/.test(text)) return null;
  return Number(text);
}
