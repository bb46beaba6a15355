// The class of frame a request carries, named in a header so a pool node can act before it
// reads the body: a saturated router sheds searches unread, but answers version leases (cheap,
// and what keeps edge caches serving under load) and shard traffic (work already admitted by
// another router) however busy it is. The header is a claim, checked once the body is decoded:
// a frame of another class is refused, so the header cannot buy a search past shedding.
import type { FrameType } from './frames.ts';

export const FRAME_CLASS_HEADER = 'x-edgesearch-frame';

/** Header value → the frame types a request of that class may carry. No header: `search`. */
export const FRAME_CLASSES = {
  search: ['search'],
  shard: ['shard-search', 'shard-score', 'evidence', 'shard-lease'],
  lease: ['lease'],
} as const satisfies Record<string, readonly FrameType[]>;

export type FrameClass = keyof typeof FRAME_CLASSES;

/** Only searches wait in the admission queue; the other classes are never shed unread. */
export const SHEDDABLE_CLASSES: ReadonlySet<FrameClass> = new Set(['search']);

/** The class a header value names (absent: `search`); undefined for a value no class has. */
export function frameClassOf(header: string | undefined): FrameClass | undefined {
  if (header === undefined) return 'search';
  return Object.prototype.hasOwnProperty.call(FRAME_CLASSES, header) ? (header as FrameClass) : undefined;
}

/** The header a sender of `type` sets (none for a search, so edges of before this stay valid). */
export function frameClassHeader(type: FrameType): Record<string, string> {
  for (const [name, types] of Object.entries(FRAME_CLASSES) as [FrameClass, readonly FrameType[]][]) {
    if (name !== 'search' && types.includes(type)) return { [FRAME_CLASS_HEADER]: name };
  }
  return {};
}
