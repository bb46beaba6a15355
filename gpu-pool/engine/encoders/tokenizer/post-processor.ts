// The special tokens a post-processor puts around ONE sequence: TemplateProcessing (`single`),
// BertProcessing ([CLS] x [SEP]), RobertaProcessing (<s> x </s>), Sequence (ByteLevel adds none).
// ByteLevel and RobertaProcessing with `trim_offsets` also move offsets off the spaces a token
// starts or ends with (`offsetTrims`).
import { BYTE_TO_CHAR } from './pre-tokenizer.ts';
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

/** Adjusts flat offsets in place, given each token's string. */
export type OffsetTrim = (tokens: (string | undefined)[], offsets: Int32Array) => void;

const SPACE_CHAR = BYTE_TO_CHAR[0x20]; // Ġ
const IS_WS = /\p{White_Space}/u;
const isSpaceChar = (c: string) => c === SPACE_CHAR || IS_WS.test(c);

/** HF `byte_level::process_offsets`: leading/trailing Ġ (or whitespace) of a token leave its offsets. */
function trimOffsets(addPrefixSpace: boolean): OffsetTrim {
  return (tokens, offsets) => {
    tokens.forEach((tok, i) => {
      if (!tok) return;
      const chars = Array.from(tok);
      let lead = 0;
      while (lead < chars.length && isSpaceChar(chars[lead])) lead++;
      let trail = 0;
      while (trail < chars.length && isSpaceChar(chars[chars.length - 1 - trail])) trail++;
      if (lead === 0 && trail === 0) return;
      let start = offsets[2 * i];
      let end = offsets[2 * i + 1];
      if (lead > 0) {
        // A single leading space on the first token is the one add_prefix_space put there: keep it.
        if ((i === 0 || start === 0) && addPrefixSpace && lead === 1) lead = 0;
        start = Math.min(start + lead, end);
      }
      if (trail > 0 && end >= trail) end = Math.max(end - trail, start);
      offsets[2 * i] = start;
      offsets[2 * i + 1] = end;
    });
  };
}

export function buildOffsetTrims(cfg: ComponentJson | null | undefined): OffsetTrim[] {
  if (!cfg) return [];
  switch (cfg.type) {
    case 'ByteLevel':
    case 'RobertaProcessing':
      // RobertaProcessing trims by default, ByteLevel too (HF defaults: trim_offsets true).
      return cfg.trim_offsets === false ? [] : [trimOffsets(cfg.add_prefix_space !== false)];
    case 'Sequence':
      return ((cfg.processors as ComponentJson[]) ?? []).flatMap(buildOffsetTrims);
    default:
      return [];
  }
}
