// `ldm list-spconfig` and `ldm list-variable`: one item per line (ldm-cli.md §4.8, §4.9).

import type { SpConfigListing, Variable } from '../manager/types.js';

const FACTORY_DEFAULT = 'factory-default';

/**
 * `factory-default` first, then the saved configurations in creation order.
 * Markers: while the running configuration still matches the last booted one, that one is
 * ` [current]`; once it has been changed, `[current]` goes away and the configuration the SP
 * boots next is ` [next poweron]` (1.3 rule, §4.8). A `set-spconfig` to another configuration
 * without changes marks both.
 */
export function renderListSpconfig(listing: SpConfigListing): string {
  const names = [FACTORY_DEFAULT, ...listing.configs.filter((n) => n !== FACTORY_DEFAULT)];
  const lines = names.map((name) => {
    if (!listing.modified && name === listing.current) return `${name} [current]`;
    if (name === listing.nextPoweron && (listing.modified || name !== listing.current)) return `${name} [next poweron]`;
    return name;
  });
  return lines.join('\n') + '\n';
}

/** `name=value` lines; multi-line values (nvramrc) keep their own line breaks. */
export function renderListVariable(vars: Variable[]): string {
  return vars.map((v) => `${v.name}=${v.value}\n`).join('');
}
