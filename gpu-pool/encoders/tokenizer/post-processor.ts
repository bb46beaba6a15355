// The special tokens a post-processor puts around ONE sequence: TemplateProcessing (`single`),
// BertProcessing ([CLS] x [SEP]), RobertaProcessing (<s> x </s>), Sequence (ByteLevel is ignored).
import { type ComponentJson, UnsupportedTokenizerError } from './types.ts';

export interface SpecialsTemplate {
  prefix: number[];
  suffix: number[];
}

type TemplatePiece = { SpecialToken?: { id: string }; Sequence?: { id: string } };

function pairId(v: unknown, where: string): number {
  if (Array.isArray(v) && typeof v[1] === 'number') return v[1];
  throw new UnsupportedTokenizerError(`${where}: expected [token, id]`);
}

export function buildSpecials(cfg: ComponentJson | null | undefined): SpecialsTemplate {
  if (!cfg) return { prefix: [], suffix: [] };
  switch (cfg.type) {
    case 'TemplateProcessing': {
      const single = cfg.single as TemplatePiece[] | undefined;
      const specials = (cfg.special_tokens ?? {}) as Record<string, { ids: number[] }>;
      if (!Array.isArray(single)) throw new UnsupportedTokenizerError('TemplateProcessing without `single`');
      const prefix: number[] = [];
      const suffix: number[] = [];
      let seenSeq = false;
      for (const piece of single) {
        if (piece.Sequence) {
          if (seenSeq) throw new UnsupportedTokenizerError('TemplateProcessing: `single` has two sequences');
          seenSeq = true;
        } else if (piece.SpecialToken) {
          const sp = specials[piece.SpecialToken.id];
          if (!sp) throw new UnsupportedTokenizerError(`TemplateProcessing: unknown special token ${piece.SpecialToken.id}`);
          (seenSeq ? suffix : prefix).push(...sp.ids);
        }
      }
      return { prefix, suffix };
    }
    case 'BertProcessing':
    case 'RobertaProcessing':
      return { prefix: [pairId(cfg.cls, cfg.type + '.cls')], suffix: [pairId(cfg.sep, cfg.type + '.sep')] };
    case 'ByteLevel':
      return { prefix: [], suffix: [] };
    case 'Sequence': {
      const parts = ((cfg.processors as ComponentJson[]) ?? []).map(buildSpecials);
      return { prefix: parts.flatMap((p) => p.prefix), suffix: parts.flatMap((p) => p.suffix) };
    }
    default:
      throw new UnsupportedTokenizerError(
        `unsupported tokenizer post_processor type ${JSON.stringify(cfg.type)} (supported: TemplateProcessing, ` +
          'BertProcessing, RobertaProcessing, ByteLevel, Sequence)',
      );
  }
}
