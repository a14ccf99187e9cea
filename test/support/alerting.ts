// Alerting against real parts: an exposition of several tenants' series (and one with no namespace), Prometheus
// servers that scrape it every second and evaluate the same rules (the shared one on every series, sending its alerts
// to a real Alertmanager; a tenant's own on that tenant's series only), so that a test can compare what a tenant
// sees of rules and alerts through promgate with what its own server shows.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertmanagerServer } from './alertmanager.js';
import { startPrometheus, type PromServer } from './prometheus.js';
import type { Labels } from './tenant-data.js';

export interface ExposedSeries {
  readonly name: string;
  readonly labels: Labels;
  value: number;
}

/** The series: the two sample tenants (team america), kube-system (team platform) and a node exporter without a namespace. */
export function alertingSeries(): ExposedSeries[] {
  return [
    { name: 'app_errors', labels: { namespace: 'tenant-a', team: 'america', app: 'api' }, value: 10 },
    { name: 'app_errors', labels: { namespace: 'tenant-b', team: 'america', app: 'api' }, value: 12 },
    { name: 'app_errors', labels: { namespace: 'kube-system', team: 'platform', app: 'dns' }, value: 14 },
    { name: 'app_errors', labels: { app: 'node-exporter' }, value: 16 },
    // tenant-a's queue fills up only when a test says so (raiseQueue), long after tenant-b's.
    { name: 'app_queue_depth', labels: { namespace: 'tenant-a', team: 'america', app: 'api' }, value: 0 },
    { name: 'app_queue_depth', labels: { namespace: 'tenant-b', team: 'america', app: 'api' }, value: 500 },
  ];
}

/** How long QueueStuck waits before it fires. */
export const QUEUE_FOR_SECONDS = 20;

/**
 * Recording rules shown by their labels or to no tenant, and alerting rules firing for tenant-a, tenant-b,
 * kube-system and the series without a namespace; QueueStuck is pending for one tenant while firing for another.
 */
export const RULES = `groups:
  - name: apps
    interval: 1s
    rules:
      - record: namespace:app_errors:sum
        expr: sum by (namespace) (app_errors)
      - record: tenant_a:app_errors:sum
        expr: sum(app_errors{namespace="tenant-a"})
        labels:
          namespace: tenant-a
      - alert: AppErrors
        expr: app_errors > 5
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.app }} in {{ $labels.namespace }} has {{ $value }} errors'
      - alert: QueueStuck
        expr: app_queue_depth > 100
        for: ${QUEUE_FOR_SECONDS}s
        labels:
          severity: ticket
  - name: tenant-b
    interval: 1s
    rules:
      - alert: TenantBQuiet
        expr: app_errors{namespace="tenant-b"} > 1000
        labels:
          namespace: tenant-b
  - name: cluster
    interval: 1s
    rules:
      - alert: NodeErrors
        expr: app_errors{namespace=""} > 5
      - record: cluster:app_errors:sum
        expr: sum(app_errors)
`;

export interface Exposition {
  readonly url: string;
  /** host:port, as a scrape target. */
  readonly address: string;
  readonly series: ExposedSeries[];
  /** Webhook notifications received (an Alertmanager receiver posts here). */
  readonly hooks: number;
  close(): Promise<void>;
}

/** Serves `/metrics?subset=NAME`: the series `subsets[NAME]` keeps (every series for `all`), as Prometheus's text format. */
export async function startExposition(series: ExposedSeries[], subsets: Readonly<Record<string, (labels: Labels) => boolean>>): Promise<Exposition> {
  let hooks = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/hook') {
      hooks++;
      req.resume();
      res.writeHead(200).end();
      return;
    }
    const subset = url.searchParams.get('subset') ?? 'all';
    const keep = subset === 'all' ? () => true : subsets[subset];
    if (url.pathname !== '/metrics' || keep === undefined) {
      res.writeHead(404).end();
      return;
    }
    const lines = series.filter((s) => keep(s.labels)).map((s) => `${s.name}{${labelText(s.labels)}} ${s.value}`);
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${address}`,
    address,
    series,
    get hooks() {
      return hooks;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const labelText = (labels: Labels): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

/** RULES in a file of their own: every server reads the one file, so that their answers name the same `file`. */
export function writeRules(): string {
  const rules = join(mkdtempSync(join(tmpdir(), 'promgate-rules-')), 'rules.yml');
  writeFileSync(rules, RULES);
  return rules;
}

/**
 * A Prometheus evaluating the rules file every second on what it scrapes of `subset` every second, sending its
 * alerts to `alertmanager` when given; its API below `routePrefix` when given.
 */
export async function startRulesPrometheus(
  exposition: Exposition,
  subset: string,
  rules: string,
  opts: { alertmanager?: AlertmanagerServer; routePrefix?: string } = {},
): Promise<PromServer> {
  const am = opts.alertmanager;
  const alerting =
    am === undefined
      ? []
      : [
          'alerting:',
          '  alertmanagers:',
          '    - api_version: v2',
          `      path_prefix: "${new URL(am.url).pathname.replace(/\/$/, '')}"`,
          `      static_configs: [{targets: ["${am.address}"]}]`,
        ];
  const config = [
    'global: {scrape_interval: 1s, evaluation_interval: 1s}',
    `rule_files: ["${rules}"]`,
    'scrape_configs:',
    '  - job_name: apps',
    '    honor_labels: true',
    `    params: {subset: ["${subset}"]}`,
    `    static_configs: [{targets: ["${exposition.address}"]}]`,
    ...alerting,
  ].join('\n');
  return startPrometheus('# EOF\n', { config, ...(opts.routePrefix !== undefined && { routePrefix: opts.routePrefix }) });
}

/**
 * Alertmanager's configuration: a route and a receiver per tenant, the second tenant's a webhook whose URL holds a
 * token, which no other tenant may ever read.
 */
export function alertmanagerConfig(hookUrl: string): string {
  return `route:
  receiver: ops
  group_by: [alertname, namespace]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['namespace="tenant-a"']
      receiver: team-a
    - matchers: ['namespace="tenant-b"']
      receiver: team-b-pager
receivers:
  - name: ops
  - name: team-a
  - name: team-b-pager
    webhook_configs:
      - url: ${hookUrl}/hook?token=${TEAM_B_TOKEN}
        send_resolved: false
`;
}

export const TEAM_B_TOKEN = 'team-b-s3cret-token';
