import type { Command } from 'commander';
import { pullModel } from '../engine/encoders/index.ts';

export function pullCommand(cmd: Command): Command {
  return cmd
    .description('download an ONNX model repository from the Hugging Face hub (HF_ENDPOINT overrides the hub URL), check every file against the hash the hub reports (sha256 for LFS files, git blob sha1 otherwise) and write its manifest; a failed or refused pull leaves the cache as it was')
    .argument('<repo>', 'repository id, e.g. sentence-transformers/all-MiniLM-L6-v2')
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .option('--cache <dir>', 'where models are stored (default $EDGESEARCH_MODELS or ~/.cache/edgesearch/models)')
    .option('--file <path>', 'which ONNX file of the repository to use')
    .action(async (repo: string, o) => {
      const dir = await pullModel(repo, {
        revision: o.revision,
        cacheDir: o.cache,
        file: o.file,
        onProgress: (message: string) => process.stderr.write(`${message}\n`),
      });
      process.stdout.write(`${dir}\n`);
    });
}
