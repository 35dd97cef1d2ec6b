// `ldm list -o status` for a domain taking part in a migration (migration.md §5.6 [M]): the
// operation, its progress and the other host — TARGET on the source, SOURCE on the target.
//
//   STATUS
//       OPERATION    PROGRESS    TARGET
//       migration    17%         system2
//
// Parseable: `|op=migration|progress=17|error=no|target=system2` (`source=` on the target).

import type { Domain } from '../manager/types.js';
import type { OperationStatus } from './sections.js';

export function migrationStatus(d: Domain): OperationStatus | null {
  const mark = d.migrationMark;
  if (!mark) return null;
  const peerColumn = mark.role === 't' ? 'SOURCE' : 'TARGET';
  const progress = `${Math.max(0, Math.min(100, Math.floor(mark.progress)))}%`;
  const row = (a: string, b: string, c: string) => `${a.padEnd(13)}${b.padEnd(12)}${c}`;
  return {
    human: [row('OPERATION', 'PROGRESS', peerColumn), row('migration', progress, mark.peer)],
    parseable: [`|op=migration|progress=${progress.slice(0, -1)}|error=${mark.role === 'e' ? 'yes' : 'no'}|${peerColumn.toLowerCase()}=${mark.peer}`],
  };
}
