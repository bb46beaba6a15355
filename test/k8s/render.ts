// Renders the kustomize overlays of infra/k8s with the kubectl on PATH (or $EDGESEARCH_KUBECTL,
// e.g. Debian's kubernetes-client 1.20 with kustomize v2.0.3) and parses the objects.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../fixtures.ts';

export const K8S_DIR = join(REPO_ROOT, 'infra', 'k8s');
export const KUBECTL = process.env.EDGESEARCH_KUBECTL || 'kubectl';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: any;
}

/** Why the k8s tests cannot run here (no kubectl), or undefined. With EDGESEARCH_REQUIRE_KUBECTL=1 a missing kubectl is an error. */
export function kubectlMissing(): string | undefined {
  const r = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  const why = `no usable ${KUBECTL} (${r.error?.message ?? r.stderr.trim()}): the Kubernetes manifest tests are skipped. Install kubectl (Debian: apt-get install kubernetes-client) or set EDGESEARCH_KUBECTL`;
  if (process.env.EDGESEARCH_REQUIRE_KUBECTL === '1') throw new Error(`EDGESEARCH_REQUIRE_KUBECTL=1 but ${why}`);
  process.stderr.write(`${why}\n`);
  return why;
}

/** `kubectl kustomize infra/k8s/overlays/<overlay>`, parsed. */
export function renderOverlay(overlay: string): K8sObject[] {
  const r = spawnSync(KUBECTL, ['kustomize', join(K8S_DIR, 'overlays', overlay)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${KUBECTL} kustomize overlays/${overlay} failed (${r.status}): ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => {
    if (d.errors.length > 0) throw new Error(`overlays/${overlay}: YAML error: ${d.errors[0].message}`);
    return d.toJS() as K8sObject;
  }).filter((o) => o !== null);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in the rendered manifests (have: ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')})`);
  return o;
}

/** A generated ConfigMap by its name before kustomize's hash suffix. */
export function configMap(objects: K8sObject[], base: string): K8sObject {
  const o = objects.find((x) => x.kind === 'ConfigMap' && new RegExp(`^${base}(-[a-z0-9]{10})?$`).test(x.metadata.name));
  if (!o) throw new Error(`no ConfigMap ${base} in the rendered manifests`);
  return o;
}
