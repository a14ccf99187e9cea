import { err, ok, type Result } from '../result.js';
import { isJsonObject, type JsonObject } from './json.js';
import type { LabelSet, LabelSetTest } from './label-set.js';

/** The labels of an alert or rule: `{}` when absent (a recording rule without labels leaves them out). */
function labelsOf(holder: JsonObject): LabelSet | undefined {
  const labels = holder['labels'];
  if (labels === undefined || labels === null) return {};
  return isJsonObject(labels) ? labels : undefined;
}

/** The alerts of a list whose labels the tenant may see; an error when the list is not one of alerts. */
function visibleAlerts(alerts: unknown, visible: LabelSetTest): Result<JsonObject[], string> {
  if (alerts === undefined || alerts === null) return ok([]);
  if (!Array.isArray(alerts)) return err('alerts is not a list');
  const kept: JsonObject[] = [];
  for (const alert of alerts) {
    // Prometheus writes every alert's labels: an alert without them is not one promgate can place.
    const labels = isJsonObject(alert) ? alert['labels'] : undefined;
    if (!isJsonObject(labels)) return err('an alert has no labels object');
    if (visible(labels)) kept.push(alert as JsonObject);
  }
  return ok(kept);
}

/** `/api/v1/alerts`: only the alerts whose labels satisfy the tenant's matchers. */
export function tenantAlerts(data: unknown, visible: LabelSetTest): Result<unknown, string> {
  if (!isJsonObject(data)) return err('the alerts answer holds no object');
  const alerts = visibleAlerts(data['alerts'], visible);
  return alerts.ok ? ok({ ...data, alerts: alerts.value }) : err(`the alerts answer: ${alerts.error}`);
}

export interface RulesView {
  /** The caller's `exclude_alerts`: promgate reads the alerts itself, and leaves them out of the answer. */
  readonly excludeAlerts: boolean;
}

/**
 * `/api/v1/rules`: the rules a tenant sees, each with only the alerts it may see. A rule is shown when its own
 * labels satisfy the matchers, and an alerting rule also when it has such alerts; an alerting rule's state is
 * worked out again from the alerts left, as Prometheus works it out from all of them (firing over pending over
 * inactive), so that it never tells of another tenant's alerts. Groups left with no rules are dropped. Whatever
 * else the upstream wrote (expressions, annotations, group fields, a pagination token) is kept as written, but a
 * rule's `lastError`, which can quote the series of any tenant the expression read, is withheld.
 */
export function tenantRules(data: unknown, visible: LabelSetTest, view: RulesView): Result<unknown, string> {
  if (!isJsonObject(data) || !Array.isArray(data['groups'])) return err('the rules answer holds no list of groups');
  const groups: JsonObject[] = [];
  for (const group of data['groups']) {
    if (!isJsonObject(group) || !Array.isArray(group['rules'])) return err('a rule group holds no list of rules');
    const rules: JsonObject[] = [];
    for (const rule of group['rules']) {
      const shown = tenantRule(rule, visible, view);
      if (!shown.ok) return err(`rule group ${JSON.stringify(group['name'])}: ${shown.error}`);
      if (shown.value !== undefined) rules.push(shown.value);
    }
    if (rules.length > 0) groups.push({ ...group, rules });
  }
  return ok({ ...data, groups });
}

/** The rule as the tenant sees it, or undefined when it is hidden. */
function tenantRule(rule: unknown, visible: LabelSetTest, view: RulesView): Result<JsonObject | undefined, string> {
  const labels = isJsonObject(rule) ? labelsOf(rule) : undefined;
  if (labels === undefined) return err('a rule has no labels object');
  const own = rule as JsonObject;
  const kind = own['type'];
  if (kind !== 'alerting' && kind !== 'recording') return err(`a rule of unknown type ${JSON.stringify(kind)}`);
  const byLabels = visible(labels);
  const withheld = typeof own['lastError'] === 'string' && own['lastError'] !== '' ? { lastError: WITHHELD } : {};
  if (kind === 'recording') return ok(byLabels ? { ...own, ...withheld } : undefined);
  const alerts = visibleAlerts(own['alerts'], visible);
  if (!alerts.ok) return alerts;
  if (!byLabels && alerts.value.length === 0) return ok(undefined);
  return ok({ ...own, ...withheld, state: stateOf(alerts.value), alerts: view.excludeAlerts ? null : alerts.value });
}

export const WITHHELD = 'withheld by promgate: the message may name series of other tenants';

/** An alerting rule's state from its alerts, as Prometheus decides it: the most advanced of them. */
function stateOf(alerts: readonly JsonObject[]): string {
  if (alerts.some((a) => a['state'] === 'firing')) return 'firing';
  if (alerts.some((a) => a['state'] === 'pending')) return 'pending';
  return 'inactive';
}
