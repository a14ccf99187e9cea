// `npm run demo`: a real Prometheus with two tenants' series (two hours of history, then live), and promgate in front
// of it with the users in configs/users.yaml. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startPrometheus } from '../test/support/prometheus.js';
import { SPAN_SECONDS, tenantData, toOpenMetrics, type Series } from '../test/support/tenant-data.js';

const GATEWAY_PORT = Number(process.env.PROM_PROXY_PORT ?? 9092);
const USERS_FILE = 'configs/users.yaml';
const state = join(process.cwd(), '.demo');
mkdirSync(state, { recursive: true });

const series = tenantData(['tenant-a', 'tenant-b', 'kube-system']);
const started = Math.floor(Date.now() / 1000);

// The live part: an exporter whose values continue the backfilled history, scraped every 5 s.
const exporter = createServer((_req, res) => {
  const t = SPAN_SECONDS + Math.floor(Date.now() / 1000) - started;
  res.setHeader('content-type', 'text/plain; version=0.0.4');
  res.end(exposition(series, t));
});
const exporterPort = await freePort();
await new Promise<void>((resolve) => exporter.listen(exporterPort, '127.0.0.1', resolve));

const prometheusPort = await portOr(9090);
const prometheus = await startPrometheus(toOpenMetrics(series, started), {
  port: prometheusPort,
  dataDir: join(state, 'prometheus'),
  config: [
    'global: { scrape_interval: 5s, evaluation_interval: 5s }',
    'scrape_configs:',
    '  - job_name: demo-tenants',
    '    honor_labels: true',
    `    static_configs: [{ targets: ["127.0.0.1:${exporterPort}"] }]`,
    '',
  ].join('\n'),
});

const gateway = spawn(process.execPath, ['dist/cli.js', 'run', '--port', String(GATEWAY_PORT),
  '--prometheus-endpoint', prometheus.url, '--auth-config', USERS_FILE, '--reload-interval', '1'], { stdio: 'inherit' });

const stop = async () => {
  gateway.kill('SIGTERM');
  exporter.close();
  await prometheus.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
gateway.once('exit', (code) => { if (code) { console.error(`promgate exited with status ${code}`); void stop(); } });

const base = `http://127.0.0.1:${GATEWAY_PORT}`;
console.log(`
promgate demo
  Prometheus (every tenant's series, no authentication): ${prometheus.url}
  promgate (users from ${USERS_FILE}):                    ${base}

Each user sees only their own namespace:
  curl -s -u alice:alice-password '${base}/api/v1/query?query=count+by+(namespace)+(up)'   # tenant-a
  curl -s -u bob:bob-password     '${base}/api/v1/query?query=count+by+(namespace)+(up)'   # tenant-b
  curl -s -u carol:carol-password '${base}/api/v1/query?query=count+by+(namespace)+(up)'   # tenant-a and tenant-b
  curl -s -u alice:alice-password '${base}/api/v1/query?query=up{namespace="tenant-b"}'    # nothing: the matchers are ANDed
  curl -s -u alice:alice-password '${base}/api/v1/label/namespace/values'                  # ["tenant-a"]
  curl -s -u alice:wrong          '${base}/api/v1/query?query=up'                          # 401
  node dist/cli.js enforce --namespace tenant-a 'sum(rate(http_requests_total[5m]))'       # what promgate sends upstream

Grafana: add one Prometheus data source per team, URL ${base}, "Basic authentication" on,
with that team's user and password (alice / alice-password for tenant-a).

Ctrl-C stops the demo.
`);

function exposition(all: readonly Series[], t: number): string {
  const lines: string[] = [];
  for (const s of all) {
    const v = s.value(t);
    if (v === undefined) continue;
    const labels = Object.entries(s.labels).map(([k, val]) => `${k}=${JSON.stringify(val)}`).join(',');
    lines.push(`${s.name}{${labels}} ${v}`);
  }
  return lines.join('\n') + '\n';
}

async function portOr(preferred: number): Promise<number> {
  const inUse = await fetch(`http://127.0.0.1:${preferred}/`).then(() => true, () => false);
  return inUse ? freePort() : preferred;
}
