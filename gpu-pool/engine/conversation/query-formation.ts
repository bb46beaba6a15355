// Query formation from a conversation (ConvDR's input policies): which previous turns go into
// the text a method encodes or matches, oldest first, and how they are cut to an encoder's window.
import { DEFAULT_POLICY, POLICY_PATTERN, type ConversationTurn, type Policy } from '../../../shared/protocol/index.ts';

export type { ConversationTurn, Policy };

/** A policy, parsed: which turns it takes. */
export type ParsedPolicy = { kind: 'raw' } | { kind: 'concat'; responses: boolean } | { kind: 'first' } | { kind: 'window'; turns: number };

export function parsePolicy(policy: Policy): ParsedPolicy {
  const m = POLICY_PATTERN.exec(policy);
  if (!m) throw new Error(`unknown policy "${policy}": must be raw, concat, concat+responses, first or window:N`);
  if (m[2] !== undefined) return { kind: 'window', turns: Number(m[2]) };
  if (policy === 'concat+responses') return { kind: 'concat', responses: true };
  if (policy === 'concat') return { kind: 'concat', responses: false };
  return { kind: policy as 'raw' | 'first' };
}

/** An encoder's window: formed text is cut, oldest turns first, until it fits. */
export interface TokenBudget {
  maxTokens: number;
  countTokens(text: string): number;
}

/**
 * The pieces of text a policy takes, oldest first; the current utterance is always last.
 * `first` keeps the first utterance even when it is the only previous one.
 */
export function policyPieces(current: string, context: readonly ConversationTurn[], policy: Policy): string[] {
  const p = parsePolicy(policy);
  switch (p.kind) {
    case 'raw':
      return [current];
    case 'first':
      return context.length > 0 ? [context[0].query, current] : [current];
    case 'window':
      return [...context.slice(-p.turns).map((t) => t.query), current];
    case 'concat':
      return [...context.flatMap((t) => (p.responses && t.response ? [t.query, t.response] : [t.query])), current];
  }
}

/**
 * The text a method searches with: the policy's pieces joined by spaces. With a budget, whole
 * pieces are dropped from the oldest end (ConvDR cuts the concatenation from the left) until the
 * text fits; the current utterance is never dropped (the encoder cuts it if it alone is too long).
 * `first` drops the turns between the first and the current before the first itself.
 */
export function formQueryText(current: string, context: readonly ConversationTurn[] | undefined, policy: Policy | undefined, budget?: TokenBudget): string {
  if (!context || context.length === 0) return current;
  const pieces = policyPieces(current, context, policy ?? DEFAULT_POLICY);
  if (!budget) return pieces.join(' ');
  let from = 0;
  while (from < pieces.length - 1 && budget.countTokens(pieces.slice(from).join(' ')) > budget.maxTokens) from++;
  return pieces.slice(from).join(' ');
}

/** The views a conversational (ConvDR student) encoder reads: each is a policy's text, cut to the window. */
export const STUDENT_VIEWS = ['raw', 'first', 'concat'] as const satisfies readonly Policy[];
export type StudentView = (typeof STUDENT_VIEWS)[number];
