import type { Matcher } from 'promql-parser-wasm';
import { err, ok, type Result } from '../result.js';
import { isJsonObject, type JsonObject } from './json.js';
import type { LabelSet, LabelSetTest } from './label-set.js';

/**
 * A matcher as Alertmanager's `filter` parameter reads it (its ParseMatcher): the value double-quoted, with `\`,
 * `"` and newlines escaped as it unescapes them.
 */
export function filterText(m: Matcher): string {
  const value = m.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${m.name}${m.type}"${value}"`;
}

function visibleOf(alerts: unknown, visible: LabelSetTest): Result<unknown[], string> {
  if (!Array.isArray(alerts)) return err('alerts is not a list');
  const kept: unknown[] = [];
  for (const alert of alerts) {
    const labels = isJsonObject(alert) ? alert['labels'] : undefined;
    if (!isJsonObject(labels)) return err('an alert has no labels object');
    if (visible(labels as LabelSet)) kept.push(alert);
  }
  return ok(kept);
}

/** `GET /api/v2/alerts`: only the alerts whose labels satisfy the tenant's matchers. */
export function tenantAmAlerts(body: unknown, visible: LabelSetTest): Result<unknown, string> {
  const kept = visibleOf(body, visible);
  return kept.ok ? kept : err(`the alerts answer: ${kept.error}`);
}

/** `GET /api/v2/alerts/groups`: each group with only the tenant's alerts; groups left empty are dropped. */
export function tenantAlertGroups(body: unknown, visible: LabelSetTest): Result<unknown, string> {
  if (!Array.isArray(body)) return err('the alert groups answer is not a list');
  const groups: JsonObject[] = [];
  for (const group of body) {
    if (!isJsonObject(group)) return err('an alert group is not an object');
    const alerts = visibleOf(group['alerts'], visible);
    if (!alerts.ok) return err(`an alert group: ${alerts.error}`);
    if (alerts.value.length > 0) groups.push({ ...group, alerts: alerts.value });
  }
  return ok(groups);
}

/**
 * What `config.original` becomes: the shared configuration names every team's receivers and routes and holds
 * their webhook URLs, API keys and passwords. This is the smallest configuration Alertmanager (and Grafana, which
 * parses it) takes: one route to one receiver with no integrations, named so that no one mistakes it for a real one.
 */
export const REDACTED_CONFIG = [
  '# redacted by promgate: the shared configuration holds every tenant\'s receivers, routes and secrets',
  'route:',
  '  receiver: redacted',
  'receivers:',
  '- name: redacted',
  '',
].join('\n');

/** `GET /api/v2/status`: version, uptime and cluster as Alertmanager wrote them; the configuration redacted. */
export function redactedStatus(body: unknown): Result<unknown, string> {
  if (!isJsonObject(body)) return err('the status answer is not an object');
  const { cluster, uptime, versionInfo } = body;
  return ok({ cluster, config: { original: REDACTED_CONFIG }, uptime, versionInfo });
}
