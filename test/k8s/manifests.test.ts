// The Kubernetes manifests (infra/k8s): both overlays render with `kubectl kustomize`, every object
// validates against the Kubernetes schemas (kubernetes-models), and the pool has what operating it
// needs: probes, drain time, a disruption budget that keeps every shard, keys from Secrets,
// scrape annotations, an index volume, the build Jobs, and a GPU only in the gpu overlay.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import { planShards } from '../../gpu-pool/service/cluster/index.ts';
import { configMap, find, kubectlMissing, renderOverlay, type K8sObject } from './render.ts';

const missing = kubectlMissing();
const OVERLAYS = ['cpu', 'gpu'] as const;
const rendered = missing ? undefined : Object.fromEntries(OVERLAYS.map((o) => [o, renderOverlay(o)]));

// Every kind the manifests may hold, with its schema. Anything else is a failure.
const MODELS: Record<string, new (o: any) => { validate(): void }> = {
  'apps/v1/StatefulSet': StatefulSet,
  'batch/v1/Job': Job,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
};

// kubernetes-models' validators check types, enums and required fields but let unknown fields
// through; a misspelt field (say `readinesProbe`) would be dropped by the API server without a
// word. The fields of the objects written by hand are checked against the model's interface.
const modelsDir = dirname(createRequire(import.meta.url).resolve('kubernetes-models/package.json'));
function fieldsOf(file: string, iface: string): Set<string> {
  const text = readFileSync(join(modelsDir, file), 'utf8');
  const start = text.indexOf(`export interface ${iface} {`);
  if (start < 0) throw new Error(`${file}: no interface ${iface}`);
  const body = text.slice(start, text.indexOf('\n}', start));
  return new Set([...body.matchAll(/^\s+"?([A-Za-z$]\w*)"?\??:/gm)].map((m) => m[1]));
}
const FIELDS = {
  container: fieldsOf('v1/Container.d.ts', 'IContainer'),
  podSpec: fieldsOf('v1/PodSpec.d.ts', 'IPodSpec'),
  probe: fieldsOf('v1/Probe.d.ts', 'IProbe'),
  statefulSetSpec: fieldsOf('apps/v1/StatefulSetSpec.d.ts', 'IStatefulSetSpec'),
  jobSpec: fieldsOf('batch/v1/JobSpec.d.ts', 'IJobSpec'),
  serviceSpec: fieldsOf('v1/ServiceSpec.d.ts', 'IServiceSpec'),
  securityContext: fieldsOf('v1/SecurityContext.d.ts', 'ISecurityContext'),
};
function expectKnown(obj: Record<string, unknown> | undefined, fields: Set<string>, where: string) {
  const unknown = Object.keys(obj ?? {}).filter((k) => !fields.has(k));
  expect(unknown, `${where}: unknown fields`).toEqual([]);
}

const podSpecs = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'StatefulSet' || o.kind === 'Job').map((o) => ({ o, spec: o.spec.template.spec }));
const allContainers = (spec: any): any[] => [...(spec.initContainers ?? []), ...spec.containers];
const topology = (objects: K8sObject[]) => {
  const d = configMap(objects, 'pool-topology').data!;
  return { nodes: Number(d.EDGESEARCH_POOL_NODES), shards: Number(d.EDGESEARCH_POOL_SHARDS), replicas: Number(d.EDGESEARCH_POOL_REPLICAS) };
};

describe.skipIf(missing !== undefined)('Kubernetes manifests (infra/k8s)', () => {
  describe.each(OVERLAYS)('overlay %s', (overlay) => {
    const objects = rendered?.[overlay] ?? [];

    it('renders objects that all validate against the Kubernetes schemas, with no unknown fields', () => {
      expect(objects.length).toBeGreaterThan(5);
      for (const o of objects) {
        const Model = MODELS[`${o.apiVersion}/${o.kind}`];
        expect(Model, `${o.apiVersion} ${o.kind} ${o.metadata?.name}: a kind the test has no schema for`).toBeDefined();
        expect(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('edgesearch');
        expect(o.metadata.labels?.['app.kubernetes.io/part-of']).toBe('edgesearch');
      }
      for (const { o, spec } of podSpecs(objects)) {
        expectKnown(o.spec, o.kind === 'Job' ? FIELDS.jobSpec : FIELDS.statefulSetSpec, `${o.kind}/${o.metadata.name} spec`);
        expectKnown(spec, FIELDS.podSpec, `${o.kind}/${o.metadata.name} pod spec`);
        for (const c of allContainers(spec)) {
          const where = `${o.kind}/${o.metadata.name} container ${c.name}`;
          expectKnown(c, FIELDS.container, where);
          expectKnown(c.securityContext, FIELDS.securityContext, `${where} securityContext`);
          for (const p of ['readinessProbe', 'livenessProbe', 'startupProbe']) expectKnown(c[p], FIELDS.probe, `${where} ${p}`);
          // Non-root, read-only root file system: what the images are built for.
          expect(c.securityContext, where).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
        }
        expect(spec.securityContext?.runAsNonRoot, `${o.kind}/${o.metadata.name}`).toBe(true);
      }
      for (const s of objects.filter((o) => o.kind === 'Service')) expectKnown(s.spec, FIELDS.serviceSpec, `Service/${s.metadata.name}`);
    });

    it('names only ConfigMaps, Secrets and claims that exist or are documented', () => {
      const configMaps = new Set(objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name));
      const claims = new Set(objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name));
      const secrets = new Set<string>();
      for (const { o, spec } of podSpecs(objects)) {
        for (const v of spec.volumes ?? []) {
          if (v.configMap) expect(configMaps, `${o.metadata.name} volume ${v.name}`).toContain(v.configMap.name);
          if (v.persistentVolumeClaim) expect(claims, `${o.metadata.name} volume ${v.name}`).toContain(v.persistentVolumeClaim.claimName);
        }
        const volumes = new Set([...(spec.volumes ?? []).map((v: any) => v.name), ...(o.spec.volumeClaimTemplates ?? []).map((t: any) => t.metadata.name)]);
        for (const c of allContainers(spec)) {
          for (const m of c.volumeMounts ?? []) expect(volumes, `${o.metadata.name}/${c.name} mount ${m.mountPath}`).toContain(m.name);
          for (const e of c.envFrom ?? []) {
            if (e.configMapRef) expect(configMaps, `${o.metadata.name}/${c.name}`).toContain(e.configMapRef.name);
            if (e.secretRef) secrets.add(`${e.secretRef.name}${e.secretRef.optional ? '?' : ''}`);
          }
          for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) secrets.add(`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}${e.valueFrom.secretKeyRef.optional ? '?' : ''}`);
        }
      }
      // The keys come from Secrets (created by the operator: infra/README.md), never from the manifests.
      expect([...secrets].sort()).toEqual(['edgesearch-index-store?', 'edgesearch-pool-keys/accepted-pool-key?', 'edgesearch-pool-keys/admin-key', 'edgesearch-pool-keys/metrics-token', 'edgesearch-pool-keys/pool-key']);
      expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    });

    it('runs the pool as a StatefulSet that derives its topology from one ConfigMap', () => {
      const sts = find(objects, 'StatefulSet', 'pool');
      const { nodes, shards, replicas } = topology(objects);
      expect(sts.spec.replicas, 'StatefulSet replicas = EDGESEARCH_POOL_NODES').toBe(nodes);
      expect(planShards(nodes, shards, replicas).every((s) => s.length > 0), 'every node holds a shard').toBe(true);
      expect(sts.spec.serviceName).toBe('pool-headless');
      const spec = sts.spec.template.spec;
      const config = spec.initContainers.find((c: any) => c.name === 'cluster-config');
      expect([...config.command, ...config.args].join(' ')).toMatch(/^node bin\/edgesearch\.js pool config --nodes \$\(EDGESEARCH_POOL_NODES\) --shards \$\(EDGESEARCH_POOL_SHARDS\) --replicas \$\(EDGESEARCH_POOL_REPLICAS\) .*--id-template pool-\{i\} /);
      const url = config.env.find((e: any) => e.name === 'EDGESEARCH_POOL_URL_TEMPLATE').value;
      expect(url).toBe('http://pool-{i}.pool-headless.$(POD_NAMESPACE).svc:7700');
      const pool = spec.containers.find((c: any) => c.name === 'pool');
      expect([...pool.command, ...pool.args]).toEqual(['node', 'bin/edgesearch.js', 'pool', 'serve', '--config', '/run/edgesearch/cluster.json', '--node', '$(POD_NAME)', '--host', '0.0.0.0']);
      expect(pool.env.find((e: any) => e.name === 'POD_NAME').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
      expect(pool.ports).toEqual([{ name: 'http', containerPort: 7700 }]);
    });

    it('probes readiness on /readyz and liveness on /healthz, and leaves SIGTERM time to drain', () => {
      const spec = find(objects, 'StatefulSet', 'pool').spec.template.spec;
      const pool = spec.containers.find((c: any) => c.name === 'pool');
      expect(pool.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(pool.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      const preStop = pool.lifecycle.preStop.exec.command;
      expect(preStop[0]).toBe('sleep');
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(preStop[1]) + 20);
    });

    it('keeps one replica of every shard through voluntary disruptions (PDB)', () => {
      const pdb = find(objects, 'PodDisruptionBudget', 'pool');
      const sts = find(objects, 'StatefulSet', 'pool');
      expect(pdb.spec.selector.matchLabels).toEqual(sts.spec.selector.matchLabels);
      const { nodes, shards, replicas } = topology(objects);
      expect(pdb.spec.maxUnavailable).toBe(replicas - 1);
      // Any maxUnavailable nodes down leave a copy of every shard; one more can lose a shard.
      const plan = planShards(nodes, shards, replicas);
      const down = (n: number) => combinations(nodes, n).every((gone) => Array.from({ length: shards }, (_, s) => s).every((s) => plan.some((held, i) => !gone.includes(i) && held.includes(s))));
      expect(down(pdb.spec.maxUnavailable)).toBe(true);
      expect(down(pdb.spec.maxUnavailable + 1)).toBe(false);
    });

    it('has a headless Service for node-to-node traffic and a Service for the routers', () => {
      const headless = find(objects, 'Service', 'pool-headless');
      const routers = find(objects, 'Service', 'pool');
      const labels = find(objects, 'StatefulSet', 'pool').spec.template.metadata.labels;
      expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
      expect(routers.spec.clusterIP).not.toBe('None');
      for (const s of [headless, routers]) {
        expect(labels).toMatchObject(s.spec.selector);
        expect(s.spec.ports).toEqual([{ name: 'http', port: 7700, targetPort: 'http' }]);
      }
    });

    it('announces metrics to Prometheus and keeps the index on a volume per pod', () => {
      const sts = find(objects, 'StatefulSet', 'pool');
      expect(sts.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '7700', 'prometheus.io/path': '/metrics' });
      expect(sts.spec.volumeClaimTemplates.map((t: any) => t.metadata.name)).toEqual(['index']);
      for (const c of allContainers(sts.spec.template.spec)) expect(c.volumeMounts.find((m: any) => m.name === 'index')?.mountPath, c.name).toBe('/data/index');
    });

    it('builds an index with an Indexed Job of slices, then merges and publishes it', () => {
      const build = find(objects, 'Job', 'index-build');
      const merge = find(objects, 'Job', 'index-merge');
      const slices = Number(configMap(objects, 'index-build').data!.EDGESEARCH_BUILD_SLICES);
      expect(build.spec).toMatchObject({ completionMode: 'Indexed', completions: slices, parallelism: slices });
      const script = build.spec.template.spec.containers[0].args.join('\n');
      expect(script).toContain('index build');
      expect(script).toContain('--slice "$JOB_COMPLETION_INDEX/$EDGESEARCH_BUILD_SLICES"');
      expect(script).toContain('--shards "$EDGESEARCH_POOL_SHARDS"');
      const mergeSpec = merge.spec.template.spec;
      expect(mergeSpec.initContainers[0].name).toBe('wait-for-slices');
      expect(mergeSpec.containers[0].args.join('\n')).toMatch(/index merge[\s\S]*index push/);
    });

    it(overlay === 'gpu' ? 'requests one GPU per node, on GPU machines, with the GPU image' : 'requests CPU and memory and no GPU, with the CPU image', () => {
      const sts = find(objects, 'StatefulSet', 'pool');
      const spec = sts.spec.template.spec;
      const pool = spec.containers.find((c: any) => c.name === 'pool');
      expect(pool.resources.requests.memory).toBeDefined();
      expect(pool.resources.limits.memory).toBe(pool.resources.requests.memory);
      const settings = JSON.parse(configMap(objects, 'pool-settings').data!['cluster-base.json']);
      for (const { spec: s } of podSpecs(objects)) for (const c of allContainers(s)) expect(c.image, c.name).toBe(`edgesearch/pool-${overlay}:latest`);
      if (overlay === 'gpu') {
        expect(pool.resources.requests['nvidia.com/gpu']).toBe(1);
        expect(pool.resources.limits['nvidia.com/gpu']).toBe(1);
        expect(spec.nodeSelector).toEqual({ 'nvidia.com/gpu.present': 'true' });
        expect(spec.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
        expect(settings.encoder.providers[0]).toMatchObject({ name: 'cuda' });
      } else {
        expect(JSON.stringify(objects)).not.toContain('nvidia.com/gpu');
        expect(spec.nodeSelector).toBeUndefined();
        expect(settings.encoder?.providers).toBeUndefined();
      }
    });
  });
});

function combinations(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (k > n) return [];
  const out: number[][] = [];
  const rec = (start: number, acc: number[]) => {
    if (acc.length === k) return void out.push([...acc]);
    for (let i = start; i < n; i++) rec(i + 1, [...acc, i]);
  };
  rec(0, []);
  return out;
}
