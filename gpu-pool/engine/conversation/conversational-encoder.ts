import type { ConversationTurn } from '../../../shared/protocol/index.ts';

/** A query with the conversation before it, oldest turn first. */
export interface ConversationQuery {
  text: string;
  context?: readonly ConversationTurn[];
}

/**
 * A query encoder that reads the conversation (ConvDR's student): its vectors live in the space
 * of the ad hoc encoder it was distilled from, so it searches that encoder's dense index unchanged.
 */
export interface ConversationalEncoder {
  readonly modelId: string;
  readonly manifestHash: string;
  readonly manifestPath: string;
  readonly dimension: number;
  /** The ad hoc encoder it was distilled from: the index it searches must be built with this model. */
  readonly teacher: { readonly id: string; readonly manifestHash: string };
  /** n × dimension, row-major, one vector per query. */
  encodeConversations(queries: readonly ConversationQuery[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}
