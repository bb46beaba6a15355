// `edgesearch index push` / `index pull`: index versions to and from object storage (S3 API) and HTTP(S).
import type { Command } from 'commander';
import { intArg } from './index.ts';

// Loaded when a transfer runs: the AWS SDK would add ~0.2 s to the start of every other command.
const transfer = () => import('../engine/transfer/index.ts');

const S3_NOTE = 'S3 region and credentials come from the standard AWS variables (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...)';

export function indexPushCommand(cmd: Command): Command {
  return cmd
    .description(`upload a published index version to s3://bucket/prefix (or file:///dir) under <prefix>/<version>/; data files first, manifests last; files already there are skipped. ${S3_NOTE}`)
    .requiredOption('--index <dir>', 'published index directory (verified before anything is uploaded)')
    .requiredOption('--to <url>', 's3://bucket/prefix or file:///dir')
    .option('--endpoint <url>', 'an S3-compatible server (MinIO, Ceph, R2...), addressed path-style (default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)')
    .option('--concurrency <n>', 'files uploaded at once', intArg('--concurrency'), 4)
    .option('--force', 'upload every file even when the destination already holds it', false)
    .action(async (o) => {
      const { pushIndex } = await transfer();
      const r = await pushIndex({ index: o.index, to: o.to, endpoint: o.endpoint, concurrency: o.concurrency, force: o.force });
      process.stdout.write(`${r.url}\n`);
    });
}

export function indexPullCommand(cmd: Command): Command {
  return cmd
    .description(`download a published index version, verify every file's sha256 against its manifest, and publish it atomically at --out; an interrupted pull resumes where it stopped (rerun the same command). ${S3_NOTE}`)
    .requiredOption('--from <url>', 's3://bucket/prefix/<version>, https://host/path/<version>, http://127.0.0.1:port/path/<version> (loopback only), or file:///dir/<version>')
    .requiredOption('--out <dir>', 'index directory to publish (must not exist unless --force); downloads go to <out>.partial until every file verified')
    .option('--endpoint <url>', 'an S3-compatible server, addressed path-style (default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)')
    .option('--retries <n>', 'retries of one file after a dropped connection or server error (exponential backoff)', intArg('--retries', 0), 5)
    .option('--concurrency <n>', 'files downloaded at once', intArg('--concurrency'), 4)
    .option('--timeout <seconds>', 'drop and retry a connection idle this long', intArg('--timeout'), 30)
    .option('--force', 'replace an existing --out', false)
    .action(async (o) => {
      const { pullIndex } = await transfer();
      const r = await pullIndex({ from: o.from, out: o.out, endpoint: o.endpoint, retries: o.retries, concurrency: o.concurrency, timeoutMs: o.timeout * 1000, force: o.force });
      process.stdout.write(`${r.out}\n`);
    });
}
