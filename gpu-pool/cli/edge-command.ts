import { InvalidArgumentError, type Command } from 'commander';
import { generateApiKey } from '../../edge/auth/index.ts';
import { ApiKeyEntry } from '../../edge/config/index.ts';
import { sha256Hex } from '../../edge/digest/index.ts';

function rateArg(value: string): { perSecond: number; burst: number } {
  const m = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(value);
  if (!m || Number(m[1]) <= 0 || Number(m[2]) < 1) throw new InvalidArgumentError(`--rate must be <per second>/<burst>, e.g. 50/100, got "${value}"`);
  return { perSecond: Number(m[1]), burst: Number(m[2]) };
}

/** `edgesearch edge keygen`: a new API key and the hashed entry the edge's API_KEYS holds for it. */
export function keygenCommand(cmd: Command): Command {
  return cmd
    .description('create an API key for the edge: prints the key (give it to the client) and its API_KEYS entry (only the SHA-256 is stored)')
    .requiredOption('--id <id>', 'names the key in logs and rate limits, e.g. "acme-prod"')
    .option('--scopes <list>', 'comma-separated: search, admin', 'search')
    .option('--rate <perSecond/burst>', 'rate limit of this key, e.g. 50/100 (default: the edge DEFAULT_RATE)', rateArg)
    .action(async (o: { id: string; scopes: string; rate?: { perSecond: number; burst: number } }) => {
      const key = generateApiKey();
      const parsed = ApiKeyEntry.safeParse({ id: o.id, sha256: await sha256Hex(key), scopes: o.scopes.split(',').map((s) => s.trim()), ...(o.rate ? { rate: o.rate } : {}) });
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(`--${issue.path[0] === 'scopes' ? 'scopes' : 'id'}: ${issue.message}`);
      }
      process.stderr.write('The key (shown once; only its SHA-256 is kept), then the entry to add to the API_KEYS list:\n');
      process.stdout.write(`${key}\n${JSON.stringify(parsed.data)}\n`);
    });
}
