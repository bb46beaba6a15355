// S3-compatible object storage through the AWS SDK v3: ranged GetObject to resume, PutObject (multipart for big files) to push.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { NotFoundError, TransferError } from './errors.ts';
import type { Expected, RemoteRead, Sink, Source } from './remote.ts';

export interface S3Options {
  /** An S3-compatible server (MinIO, Ceph, R2, s3rver...): addressed path-style. Default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** Files above this many bytes go up in parts (default 256 MiB; a single PUT takes at most 5 GiB). */
  multipartThreshold?: number;
  /** Part size of multipart uploads (default 64 MiB; S3 wants >= 5 MiB except the last). */
  partSize?: number;
  /** A connection idle this long is dropped (and the read retried from where it stopped); default 30 s. */
  timeoutMs?: number;
}

/** Region and credentials come from the SDK's standard chain (AWS_REGION, AWS_ACCESS_KEY_ID, profiles, roles...). */
export function createS3Client(opts: S3Options = {}): S3Client {
  const endpoint = opts.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? (endpoint ? 'us-east-1' : undefined);
  return new S3Client({
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    requestHandler: { connectionTimeout: 10_000, socketTimeout: opts.timeoutMs ?? 30_000 },
    // We verify sha256 against the manifests ourselves; the SDK's default CRC trailers
    // (aws-chunked uploads) are not understood by every S3-compatible server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: 'client' | 'server';
}

/** NotFound for 404, TransferError for other client errors (no retry fixes 403), the error itself otherwise. */
function classify(err: unknown, url: string): Error {
  const e = err as SdkError;
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'NoSuchKey' || e.name === 'NotFound' || status === 404) return new NotFoundError(url);
  if (e.name === 'NoSuchBucket') return new TransferError(`${url}: no such bucket`);
  if (e.name === 'InvalidRange' || status === 416) return new TransferError(`${url}: the object is shorter than its manifest says (416 InvalidRange)`);
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new TransferError(`${url}: ${e.name ?? 'error'} (HTTP ${status}): ${e.message ?? ''}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

const join = (prefix: string, key: string) => (prefix ? `${prefix}/${key}` : key);

export class S3Source implements Source {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  describe(key: string): string {
    return `s3://${this.bucket}/${join(this.prefix, key)}`;
  }

  async read(key: string, start: number): Promise<RemoteRead> {
    const controller = new AbortController();
    let out;
    try {
      out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: join(this.prefix, key), ...(start > 0 ? { Range: `bytes=${start}-` } : {}) }),
        { abortSignal: controller.signal },
      );
    } catch (err) {
      throw classify(err, this.describe(key));
    }
    let from = 0;
    let total: number | undefined = out.ContentLength;
    if (out.ContentRange) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(out.ContentRange);
      if (!m) throw new TransferError(`${this.describe(key)}: unusable Content-Range ${out.ContentRange}`);
      from = Number(m[1]);
      total = m[3] === '*' ? undefined : Number(m[3]);
    }
    if (from !== 0 && from !== start) throw new TransferError(`${this.describe(key)}: asked for bytes from ${start}, got from ${from}`);
    const body = out.Body as Readable | undefined;
    if (!body) throw new Error(`${this.describe(key)}: no body`);
    const expectedEnd = out.ContentLength !== undefined ? from + out.ContentLength : undefined;
    const url = this.describe(key);
    async function* checked(): AsyncIterable<Uint8Array> {
      let at = from;
      for await (const chunk of body!) {
        at += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (expectedEnd !== undefined && at < expectedEnd) throw new Error(`${url}: connection closed after byte ${at} of ${expectedEnd}`);
    }
    return { start: from, total, body: checked(), abort: () => (controller.abort(), body.destroy()) };
  }

  close(): void {
    this.client.destroy();
  }
}

export class S3Sink implements Sink {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly opts: S3Options = {},
  ) {}

  describe(key: string): string {
    return `s3://${this.bucket}/${join(this.prefix, key)}`;
  }

  async has(key: string, expected: Expected): Promise<boolean> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: join(this.prefix, key) }));
      return head.ContentLength === expected.bytes && head.Metadata?.sha256 === expected.sha256;
    } catch (err) {
      const c = classify(err, this.describe(key));
      if (c instanceof NotFoundError) return false;
      throw c;
    }
  }

  async put(key: string, path: string, expected: Expected): Promise<void> {
    const Key = join(this.prefix, key);
    const meta = { sha256: expected.sha256 };
    const threshold = this.opts.multipartThreshold ?? 256 << 20;
    try {
      if (expected.bytes <= threshold) {
        await this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: createReadStream(path),
            ContentLength: expected.bytes,
            Metadata: meta,
            // S3 checks the body against it and refuses a PUT that arrives damaged.
            ChecksumSHA256: Buffer.from(expected.sha256, 'hex').toString('base64'),
          }),
        );
        return;
      }
      const partSize = Math.max(5 << 20, this.opts.partSize ?? 64 << 20);
      const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key, Metadata: meta }));
      try {
        const parts: { ETag: string; PartNumber: number }[] = [];
        for (let offset = 0, n = 1; offset < expected.bytes; offset += partSize, n++) {
          const length = Math.min(partSize, expected.bytes - offset);
          const res = await this.client.send(
            new UploadPartCommand({ Bucket: this.bucket, Key, UploadId, PartNumber: n, ContentLength: length, Body: createReadStream(path, { start: offset, end: offset + length - 1 }) }),
          );
          parts.push({ ETag: res.ETag!, PartNumber: n });
        }
        await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
      } catch (err) {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId })).catch(() => {});
        throw err;
      }
    } catch (err) {
      throw classify(err, this.describe(key));
    }
  }

  close(): void {
    this.client.destroy();
  }
}
