import http from 'node:http';
import type { EvidenceFrame, EvidenceResultFrame, Frame, ShardLeaseFrame, ShardLeaseResultFrame, ShardResultFrame, ShardScoreFrame, ShardScoreResultFrame, ShardSearchFrame } from '../../../shared/protocol/index.ts';
import { frameClassHeader } from '../../../shared/protocol/index.ts';
import { postFrame, type TransportError } from '../pool-client/index.ts';
import type { ShardHost } from '../shard-host/index.ts';

/** One replica of some shards, reachable in-process or over HTTP. */
export interface ShardClient {
  /** The node id, for logs and metrics. */
  readonly node: string;
  search(frame: ShardSearchFrame, signal: AbortSignal): Promise<ShardResultFrame>;
  evidence(frame: EvidenceFrame, signal: AbortSignal): Promise<EvidenceResultFrame>;
  /** Re-scores given passages (a re-ranking second stage). */
  score(frame: ShardScoreFrame, signal: AbortSignal): Promise<ShardScoreResultFrame>;
  /** The version the replica serves now and its promise (no search). */
  lease(frame: ShardLeaseFrame, signal: AbortSignal): Promise<ShardLeaseResultFrame>;
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

  score(frame: ShardScoreFrame): Promise<ShardScoreResultFrame> {
    return this.host.score(frame);
  }

  async lease(frame: ShardLeaseFrame): Promise<ShardLeaseResultFrame> {
    return this.host.lease(frame);
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

  score(frame: ShardScoreFrame, signal: AbortSignal): Promise<ShardScoreResultFrame> {
    return this.post(frame, signal, 'shard-score-result') as Promise<ShardScoreResultFrame>;
  }

  lease(frame: ShardLeaseFrame, signal: AbortSignal): Promise<ShardLeaseResultFrame> {
    return this.post(frame, signal, 'shard-lease-result') as Promise<ShardLeaseResultFrame>;
  }

  private async post(frame: Frame, signal: AbortSignal, expect: Frame['type']): Promise<Frame> {
    let reply;
    try {
      // Node-to-node frames carry work admitted elsewhere: their class header keeps them from being shed.
      reply = await postFrame(this.endpoint, frame, { key: this.key, agent: this.agent, signal, headers: frameClassHeader(frame.type) });
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
