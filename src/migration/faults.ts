// Fault injection for the migration tests (docs/migration-faults.md): environment variables that
// hold a phase open for some milliseconds, so that a test can act in it (kill a process, cut the
// link, try a command) by waiting for the phase rather than by luck of timing. Unset, they do nothing.
//
//   LDOMS_FAULT_PAUSE_ROUND_MS          source machine process: after each pre-copy round
//   LDOMS_FAULT_PAUSE_BEFORE_COMMIT_MS  source ldmd: `committing` recorded, commit not yet sent
//   LDOMS_FAULT_PAUSE_AFTER_COMMIT_MS   target ldmd: domain taken over, answer not yet sent
//   LDOMS_FAULT_DOMAINS                 comma-separated domain names the pauses apply to (default: all)

/** The pause `variable` asks for `domain`, in milliseconds (0: none). */
export function faultDelay(variable: string, domain: string): number {
  const ms = Number(process.env[variable] ?? 0);
  if (!(ms > 0)) return 0;
  const only = process.env.LDOMS_FAULT_DOMAINS;
  if (only && !only.split(',').map((s) => s.trim()).includes(domain)) return 0;
  return ms;
}

export async function faultPause(variable: string, domain: string): Promise<void> {
  const ms = faultDelay(variable, domain);
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
}
