/**
 * A shard answered evidence from another version than its search ran on: it was swapped in
 * between. Ordinals name documents of one version, so that evidence would be another document's
 * text; the router searches the batch again once (`again`), or reports the shard missing.
 */
export class EvidenceVersionError extends Error {
  readonly code = 'evidence-version';
  constructor(
    readonly shard: number,
    readonly searched: string | undefined,
    readonly answered: string,
    readonly again: boolean,
  ) {
    super(`shard ${shard} answered evidence from version ${answered}, the search ran on ${searched}`);
    this.name = 'EvidenceVersionError';
  }
}
