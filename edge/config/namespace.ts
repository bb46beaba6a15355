// The parts of a Durable Object namespace binding the edge uses (the Workers types are not a
// dependency of the edge's sources): a stub per name, reached by fetch.
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> };
}
