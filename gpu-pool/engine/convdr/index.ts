// ConvDR: the model loader lands with the training work (placeholder until then).
import type { ConversationalEncoder } from '../conversation/index.ts';

export interface LoadConversationalEncoderOptions {
  threads?: number;
  log?: (message: string) => void;
}

export async function loadConversationalEncoder(path: string, _opts: LoadConversationalEncoderOptions = {}): Promise<ConversationalEncoder> {
  throw new Error(`${path}: conversational encoders are not implemented yet`);
}
