// What the chart promises, read off its rendered objects (helm template with the real Helm): k8spin's values keep
// their meaning, the pods are locked down, files are mounted so that changes reach running pods, and every file the
// container is told about is one a volume puts there.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CHART, find, render, TEST_VALUES, type Doc } from './support/chart.js';

const appVersion = (parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;
const container = (docs: readonly Doc[]) => find(docs, 'Deployment').spec.template.spec.containers[0];
const envOf = (docs: readonly Doc[]): Record<string, string | undefined> =>
  Object.fromEntries((container(docs).env as Doc[]).map((e) => [e.name, e.value]));
const valuesFiles = readdirSync(TEST_VALUES).filter((f) => f.endsWith('.yaml'));

describe('the rendered chart', () => {
  it("takes k8spin's own values file: promgate's image, its users Secret, probes on promgate's own endpoints", () => {
    const docs = render(['-f', join(TEST_VALUES, 'k8spin-example.yaml')]);
    const c = container(docs);
    assert.equal(c.image, `promgate:${appVersion}`);
    assert.deepEqual(c.args, ['run']);
    assert.deepEqual([c.livenessProbe.httpGet, c.readinessProbe.httpGet], [{ path: '/healthz', port: 'internal' }, { path: '/readyz', port: 'internal' }]);
    assert.equal(c.ports.find((p: Doc) => p.name === 'internal').containerPort, 9093);
    assert.equal(Buffer.from(find(docs, 'Secret').data['authn.yaml'], 'base64').toString(), 'users: []\n');
    // k8spin's securityContext (user 1000) merged over the chart's locked-down defaults.
    assert.equal(c.securityContext.runAsUser, 1000);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    // An empty endpoint is left to promgate's default rather than passed as an empty URL.
    assert.equal(envOf(docs).PROM_PROXY_PROMETHEUS_ENDPOINT, undefined);
  });

  it("keeps k8spin's existing-Secret contract: createSecret false reads authn.yaml of prometheus-multi-tenant-proxy", () => {
    const docs = render(['--set', 'proxy.auth.basic.createSecret=false']);
    assert.equal(docs.some((d) => d.kind === 'Secret'), false);
    const volume = find(docs, 'Deployment').spec.template.spec.volumes.find((v: Doc) => v.name === 'users');
    assert.deepEqual(volume.secret, { secretName: 'prometheus-multi-tenant-proxy', items: [{ key: 'authn.yaml', path: 'authn.yaml' }] });
  });

  it("upgrades k8spin's release in place with nameOverride: the same object names and the same (immutable) selector", () => {
    // What k8spin's chart names a release called prometheus-multi-tenant-proxy, and selects its pods by.
    const k8spin = 'prometheus-multi-tenant-proxy';
    const selector = { 'app.kubernetes.io/name': k8spin, 'app.kubernetes.io/instance': k8spin };
    const docs = render(['--set', `nameOverride=${k8spin}`, '-f', join(TEST_VALUES, 'k8spin-flux.yaml')], k8spin);
    for (const kind of ['ServiceAccount', 'Secret', 'Service', 'Deployment']) assert.equal(find(docs, kind).metadata.name, k8spin, kind);
    assert.deepEqual(find(docs, 'Deployment').spec.selector.matchLabels, selector);
    assert.deepEqual(find(docs, 'Service').spec.selector, selector);
  });

  it('locks the pod down by default: non-root, read-only, no capabilities, RuntimeDefault seccomp, no API token', () => {
    const docs = render([]);
    const pod = find(docs, 'Deployment').spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.notEqual(pod.securityContext.runAsUser, 0);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.deepEqual(container(docs).securityContext, {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    });
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(find(docs, 'ServiceAccount').automountServiceAccountToken, false);
  });

  for (const file of valuesFiles) {
    it(`${file}: no checksum annotation and no subPath, so Secret changes reach running pods; every file named is mounted`, () => {
      const docs = render(['-f', join(TEST_VALUES, file)]);
      const template = find(docs, 'Deployment').spec.template;
      assert.equal(Object.keys(template.metadata.annotations ?? {}).some((k) => /checksum/i.test(k)), false);
      const c = template.spec.containers[0];
      const mounts = (c.volumeMounts ?? []) as Doc[];
      assert.equal(mounts.some((m) => m.subPath !== undefined), false);
      const files = new Set<string>();
      for (const m of mounts) {
        const v = template.spec.volumes.find((x: Doc) => x.name === m.name);
        const source = v.secret ?? v.configMap;
        for (const item of source.items ?? []) files.add(`${m.mountPath}/${item.path}`);
        if (source.items === undefined) files.add(`${m.mountPath}/*`);
      }
      for (const e of c.env as Doc[]) {
        if (typeof e.value !== 'string' || !e.value.startsWith('/etc/promgate/')) continue;
        const dir = e.value.slice(0, e.value.lastIndexOf('/'));
        assert.ok(files.has(e.value) || files.has(`${dir}/*`), `${e.name}=${e.value} is in no mounted volume`);
      }
      // The internal port (metrics with user names) is never on the gateway's Service, which may be a LoadBalancer.
      const service = docs.find((d) => d.kind === 'Service' && d.metadata.name === find(docs, 'Deployment').metadata.name)!;
      assert.deepEqual(service.spec.ports.map((p: Doc) => p.targetPort), ['http']);
    });
  }

  it('gateway mode: the inline file in a Secret, PROM_PROXY_CONFIG naming it, no k8spin-mode endpoint', () => {
    const docs = render(['-f', join(TEST_VALUES, 'gateway.yaml'), '--set', 'proxy.prometheusEndpoint=http://ignored:9090']);
    const env = envOf(docs);
    assert.equal(env.PROM_PROXY_CONFIG, '/etc/promgate/gateway/config.yaml');
    assert.equal(env.PROM_PROXY_PROMETHEUS_ENDPOINT, undefined);
    const secret = find(docs, 'Secret', 'promgate-gateway');
    assert.match(Buffer.from(secret.data['config.yaml'], 'base64').toString(), /^components:$/m);
  });

  it('SigV4 through IRSA: the role on the ServiceAccount, --aws and the region in the environment', () => {
    const docs = render(['-f', join(TEST_VALUES, 'aws.yaml')]);
    assert.equal(find(docs, 'ServiceAccount').metadata.annotations['eks.amazonaws.com/role-arn'], 'arn:aws:iam::123456789012:role/promgate');
    const env = envOf(docs);
    assert.equal(env.PROM_PROXY_USE_AWS, 'true');
    assert.equal(env.AWS_REGION, 'eu-west-1');
    // IRSA's token is a projected volume the EKS webhook adds: the API token stays unmounted.
    assert.equal(find(docs, 'Deployment').spec.template.spec.automountServiceAccountToken, false);
  });

  it('optional objects: each off by default, each on in everything.yaml', () => {
    const kinds = (docs: readonly Doc[]) => docs.map((d) => d.kind).sort();
    assert.deepEqual(kinds(render([])), ['Deployment', 'Secret', 'Service', 'ServiceAccount']);
    const all = render(['-f', join(TEST_VALUES, 'everything.yaml')]);
    for (const kind of ['HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ServiceMonitor', 'NetworkPolicy', 'Ingress']) {
      assert.ok(kinds(all).includes(kind), kind);
    }
    const deployment = find(all, 'Deployment');
    assert.equal(deployment.spec.replicas, undefined, 'the HPA owns the replica count');
    assert.deepEqual(deployment.spec.template.spec.topologySpreadConstraints[0].labelSelector.matchLabels, deployment.spec.selector.matchLabels);
    const metrics = find(all, 'Service', 'promgate-gateway-metrics');
    assert.equal(metrics.spec.type, 'ClusterIP');
    assert.deepEqual(metrics.spec.ports.map((p: Doc) => p.targetPort), ['internal']);
    assert.deepEqual(find(all, 'ServiceMonitor').spec.selector.matchLabels, { ...deployment.spec.selector.matchLabels, 'app.kubernetes.io/component': 'metrics' });
  });
});
