// A kubelet stand-in for the manifest tests: runs one container of a rendered pod spec as a local
// process, with the environment Kubernetes would give it (ConfigMaps, downward API, Secrets,
// $(VAR) expansion). Only what must differ on one machine is substituted: mount paths → local
// directories, /app → this repository, `node` → this Node, and what the caller names.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../fixtures.ts';
import { find, type K8sObject } from './render.ts';

export interface Pod {
  ordinal: number;
  name: string;
  address: string;
  url: string;
  /** This pod's directory: HOME, and its volumes under volumes/<name> (unless shared). */
  dir: string;
  exited?: Promise<number | null>;
  kill?: (signal: NodeJS.Signals) => void;
  logs: string[];
}

export interface LocalContext {
  objects: K8sObject[];
  /** Secret values by `secret/key`. */
  keys: Record<string, string>;
  namespace: string;
  /** Volume name → directory, for volumes every pod shares (a ReadWriteMany claim). */
  sharedVolumes?: Record<string, string>;
  /** Variables set after the manifests', as they are (what Kubernetes adds, e.g. JOB_COMPLETION_INDEX, or the caller's substitutions with local paths). */
  env?: Record<string, string>;
  /** Rewrites the environment once resolved (e.g. pod addresses). */
  adjustEnv?: (env: Record<string, string>) => void;
}

/** The kubelet's $(VAR) expansion: defined variables are replaced, $$ escapes, the rest stays. */
export const expand = (s: string, env: Record<string, string>) => s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) => (m === '$$' ? '$' : name in env ? env[name] : m));

export function volumeDir(ctx: LocalContext, pod: Pod, name: string): string {
  return ctx.sharedVolumes?.[name] ?? join(pod.dir, 'volumes', name);
}

/** What one container of pod `pod` runs here: program, arguments, environment, working directory. */
export function localContainer(ctx: LocalContext, pod: Pod, spec: any, c: any) {
  const volumes = new Map<string, string>();
  for (const v of spec.volumes ?? []) volumes.set(v.name, volumeDir(ctx, pod, v.name));
  volumes.set('index', volumeDir(ctx, pod, 'index'));
  const mounts: [string, string][] = (c.volumeMounts ?? []).map((m: any) => {
    if (!volumes.has(m.name)) throw new Error(`${c.name}: mount of unknown volume ${m.name}`);
    return [m.mountPath, volumes.get(m.name)!];
  });
  mounts.sort((a, b) => b[0].length - a[0].length);
  // One pass, longest mount path first, a path only where it ends (at "/", a quote, space or the end).
  const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`(${mounts.map(([from]) => escape(from)).join('|')})(?=[/"' ]|$)`, 'gm');
  const local = (s: string) => (mounts.length === 0 ? s : s.replace(pattern, (from) => mounts.find(([f]) => f === from)![1]));
  const env: Record<string, string> = {};
  for (const e of c.envFrom ?? []) {
    if (e.configMapRef) Object.assign(env, find(ctx.objects, 'ConfigMap', e.configMapRef.name).data);
    else if (e.secretRef && !e.secretRef.optional) throw new Error(`${c.name}: secret ${e.secretRef.name} is not provided by the test`);
  }
  for (const e of c.env ?? []) {
    let value: string;
    if (e.value !== undefined) value = expand(e.value, env);
    else if (e.valueFrom?.fieldRef) value = ({ 'metadata.name': pod.name, 'metadata.namespace': ctx.namespace } as Record<string, string>)[e.valueFrom.fieldRef.fieldPath];
    else if (e.valueFrom?.secretKeyRef) value = ctx.keys[`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`];
    else if (e.valueFrom?.configMapKeyRef) value = find(ctx.objects, 'ConfigMap', e.valueFrom.configMapKeyRef.name).data![e.valueFrom.configMapKeyRef.key];
    else throw new Error(`${c.name}: env ${e.name}: a source the test does not know`);
    if (value === undefined && e.valueFrom?.secretKeyRef?.optional) continue; // as the kubelet: an optional key the Secret lacks
    if (value === undefined) throw new Error(`${c.name}: env ${e.name} has no value`);
    env[e.name] = value;
  }
  ctx.adjustEnv?.(env);
  for (const k of Object.keys(env)) env[k] = local(env[k]);
  // The caller's values are local already.
  Object.assign(env, ctx.env);
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a: string) => local(expand(a, env)));
  for (let i = 0; i < argv.length; i++) if (argv[i] === '--host' && argv[i + 1] === '0.0.0.0') argv[i + 1] = pod.address;
  if (argv[0] === 'node') argv[0] = process.execPath;
  // A container that runs the image's code does so from /app; a shell alone may run anywhere.
  if (c.workingDir !== '/app' && !(c.workingDir === undefined && argv[0] === '/bin/sh')) throw new Error(`${c.name}: working directory ${c.workingDir}, expected /app (the repository)`);
  // `node` in a shell script is this Node.
  const path = `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  return { argv, env: { PATH: path, HOME: pod.dir, ...env }, cwd: c.workingDir === '/app' ? REPO_ROOT : pod.dir };
}

export function run(pod: Pod, name: string, spec: ReturnType<typeof localContainer>) {
  const child = spawn(spec.argv[0], spec.argv.slice(1), { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on('line', (l) => pod.logs.push(`[${name}] ${l}`));
  return { exited: new Promise<number | null>((r) => child.on('exit', (code) => r(code))), kill: (sig: NodeJS.Signals) => child.kill(sig) };
}
