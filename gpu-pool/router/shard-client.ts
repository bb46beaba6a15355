import http from 'node:http';
import type { EvidenceFrame, EvidenceResultFrame, Frame, ShardResultFrame, ShardSearchFrame } from '../../shared/protocol/index.ts';
import { postFrame, type TransportError } from '../pool-client/index.ts';
import type { ShardHost } from '../shard-host/index.ts';

/**
 * Marks node-to-node shard traffic. A saturated router sheds new `search` frames before reading
 * them; shard frames carry work already admitted elsewhere and must not be shed that way.
 */
export const SHARD_TRAFFIC_HEADER = 'x-edgesearch-frame';

/** One replica of some shards, reachable in-process or over HTTP. */
export interface ShardClient {
  /** The node id, for logs and metrics. */
  readonly node: string;
  search(frame: ShardSearchFrame, signal: AbortSignal): Promise<ShardResultFrame>;
  evidence(frame: EvidenceFrame, signal: AbortSignal): Promise<EvidenceResultFrame>;
}

/** A shard held by this very process: no serialization, no socket. */
export class LocalShardClient implements ShardClient {
  constructor(
    readonly node: string,
    private readonly host: ShardHost,
  ) {}

  search(frame: ShardSearchFrame): Promise<ShardResultFrame> {
    return this.host.search(frame);
  }

  evidence(frame: EvidenceFrame): Promise<EvidenceResultFrame> {
    return this.host.evidence(frame);
  }
}

/** An error a remote node answered with (an error frame), or failing to reach it. */
export class RemoteError extends Error {
  constructor(
    readonly node: string,
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(`node ${node}: ${message}`);
    this.name = 'RemoteError';
  }
}

/** A replica on another node: signed msgpack frames over a keep-alive HTTP connection pool. */
export class HttpShardClient implements ShardClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly endpoint: URL;

  constructor(
    readonly node: string,
    baseUrl: string,
    private readonly key: CryptoKey,
  ) {
    this.endpoint = new URL('/v1/batch', baseUrl);
  }

  search(frame: ShardSearchFrame, signal: AbortSignal): Promise<ShardResultFrame> {
    return this.post(frame, signal, 'shard-result') as Promise<ShardResultFrame>;
  }

  evidence(frame: EvidenceFrame, signal: AbortSignal): Promise<EvidenceResultFrame> {
    return this.post(frame, signal, 'evidence-result') as Promise<EvidenceResultFrame>;
  }

  private async post(frame: Frame, signal: AbortSignal, expect: Frame['type']): Promise<Frame> {
    let reply;
    try {
      reply = await postFrame(this.endpoint, frame, { key: this.key, agent: this.agent, signal, headers: { [SHARD_TRAFFIC_HEADER]: 'shard' } });
    } catch (err) {
      const e = err as TransportError;
      throw new RemoteError(this.node, e.code ?? 'unreachable', e.message, e.status);
    }
    const { status, frame: answer } = reply;
    if (answer.type === 'error') throw new RemoteError(this.node, answer.code, answer.message, status);
    if (answer.type !== expect) throw new RemoteError(this.node, 'bad-frame', `answered a ${answer.type} frame, expected ${expect}`, status);
    return answer;
  }

  close(): void {
    this.agent.destroy();
  }
}
