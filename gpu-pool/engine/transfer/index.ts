// Index versions to and from object storage and HTTP(S): `index push` and `index pull`.
export { CorruptFileError, NotFoundError, TransferError } from './errors.ts';
export { isLoopbackHost, lastSegment, parseLocation, type Location } from './location.ts';
export { openSink, openSource, type RemoteOptions } from './open-location.ts';
export { partialDir, pullIndex, type PullOptions, type PullResult } from './pull.ts';
export { pushIndex, type PushOptions, type PushResult } from './push.ts';
export type { Expected, RemoteRead, Sink, Source } from './remote.ts';
export { createS3Client, type S3Options } from './s3.ts';
