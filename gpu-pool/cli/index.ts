// `edgesearch` command line: build, merge, add, delete, optimize, tune, search, eval, colbert train, models pull, pool, edge keygen, mcp.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { Mode } from '../../shared/protocol/index.ts';
import { addCommand, buildCommand, deleteCommand, mergeCommand } from './build-command.ts';
import { colbertTrainCommand } from './colbert-command.ts';
import { convdrCommand } from './convdr-command.ts';
import { phraseTrainCommand } from './phrase-command.ts';
import { phraseFitCommand } from './phrase-fit-command.ts';
import { phraseTuneCommand } from './phrase-tune-command.ts';
import { keygenCommand } from './edge-command.ts';
import { mcpCommand } from './mcp-command.ts';
import { evalCommand } from './eval-command.ts';
import { optimizeCommand } from './optimize-command.ts';
import { tuneCommand } from './tune-command.ts';
import { indexPullCommand, indexPushCommand } from './index-transfer-command.ts';
import { pullCommand } from './models-command.ts';
import { poolClusterCommand, poolRolloutCommand, poolServeCommand, poolSwapCommand } from './pool-command.ts';
import { poolConfigCommand } from './pool-config-command.ts';
import { searchCommand } from './search-command.ts';

export function intArg(name: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${value}"`);
    return n;
  };
}

export function numberArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
    return n;
  };
}

export const modeOption = () => new Option('--mode <mode>', 'retrieval method').choices([...Mode.options]).default('dense');

export function createProgram(): Command {
  const program = new Command('edgesearch')
    .description('Neural search: build sharded quantized indexes, search them, evaluate them.')
    .showHelpAfterError()
    .exitOverride();

  const index = program.command('index').description('build and maintain indexes');
  buildCommand(index.command('build'));
  mergeCommand(index.command('merge'));
  addCommand(index.command('add'));
  deleteCommand(index.command('delete'));
  optimizeCommand(index.command('optimize'));
  tuneCommand(index.command('tune'));
  indexPushCommand(index.command('push'));
  indexPullCommand(index.command('pull'));
  searchCommand(program.command('search'));
  evalCommand(program.command('eval'));
  const colbert = program.command('colbert').description('late interaction (ColBERT): train the projection of a token model');
  colbertTrainCommand(colbert.command('train'));
  const phrase = program.command('phrase').description('phrase retrieval (DensePhrases): train the phrase heads of a token model, fit the evidence weights of phrase search, tune the query heads');
  phraseTrainCommand(phrase.command('train'));
  phraseFitCommand(phrase.command('fit-weights'));
  phraseTuneCommand(phrase.command('tune-query'));
  convdrCommand(program.command('convdr'));
  const models = program.command('models').description('manage encoder models');
  pullCommand(models.command('pull'));
  const pool = program.command('pool').description('run GPU-pool nodes: serve shards and route query batches');
  poolServeCommand(pool.command('serve'));
  poolClusterCommand(pool.command('cluster'));
  poolSwapCommand(pool.command('swap'));
  poolConfigCommand(pool.command('config'));
  poolRolloutCommand(pool.command('rollout'));
  const edge = program.command('edge').description('the edge worker: API keys');
  keygenCommand(edge.command('keygen'));
  mcpCommand(program.command('mcp'));
  for (const cmd of [program, index, colbert, models, pool, edge, ...index.commands, ...colbert.commands, ...models.commands, ...pool.commands, ...edge.commands, ...program.commands]) cmd.exitOverride();
  return program;
}

/** Runs the CLI; returns the exit code instead of exiting so tests can call it in-process. */
export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander but successes to the user.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' ? 0 : 2;
    }
    process.stderr.write(`error: ${(err as Error).message}\n`);
    if (process.env.EDGESEARCH_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}
