// The ConvDR student as served: base encoder on several views of the conversation + a linear adapter.
export { ADAPTER_FILE, applyAdapter, decodeAdapter, encodeAdapter, identityAdapter, initialAdapter, normalizeRows, NotAConversationalModelError, readAdapter, type Adapter } from './adapter.ts';
export { loadConversationalEncoder, studentEncoder, type LoadConversationalEncoderOptions } from './conversational-encoder.ts';
export { encodeDistinct, viewFeatures, viewTexts } from './views.ts';
export { writeConversationalModel, type ConversationalModel } from './write-model.ts';
