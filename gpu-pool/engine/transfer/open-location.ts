import { FileSink, FileSource } from './file-store.ts';
import { HttpSource } from './http-source.ts';
import type { Location } from './location.ts';
import type { Sink, Source } from './remote.ts';
import { S3Sink, S3Source, createS3Client, type S3Options } from './s3.ts';

export type RemoteOptions = S3Options;

export function openSource(loc: Location, opts: RemoteOptions = {}): Source {
  if (loc.kind === 's3') return new S3Source(createS3Client(opts), loc.bucket, loc.prefix);
  if (loc.kind === 'http') return new HttpSource(loc.base, { timeoutMs: opts.timeoutMs });
  return new FileSource(loc.dir);
}

/** Where version `version` goes below the location. */
export function openSink(loc: Location, version: string, opts: RemoteOptions = {}): Sink {
  if (loc.kind === 's3') return new S3Sink(createS3Client(opts), loc.bucket, loc.prefix ? `${loc.prefix}/${version}` : version, opts);
  if (loc.kind === 'file') return new FileSink(`${loc.dir}/${version}`);
  throw new Error(`cannot push to ${loc.url}`);
}
