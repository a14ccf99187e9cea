import { Counter, Histogram, type Registry } from 'prom-client';
import type { AuthOutcome, Authenticator } from '../auth/types.js';
import type { UserEntry } from '../auth/users-file.js';
import { LATENCY_BUCKETS, registered } from '../observability/metrics.js';
import type { UpstreamFailure } from '../observability/metrics.js';
import { joinTenants } from '../tenant.js';
import type { UpstreamObserver } from '../upstream/metered.js';

/** The `tenant` label of a tenant id no configured tenant has (a JWT's): `<` is in no Cortex tenant id. */
export const UNLISTED_TENANT = '<unlisted>';

/**
 * A component's calls counted: promgate's own metrics, and cortex-gateway's `cortex_gateway_proxy_requests_total`
 * (its `targetname` the component's name), so that cortex-gateway's dashboards keep working. Label children are
 * made once per component and status code: prom-client would hash the label object on every call.
 */
export function componentObserver(registry: Registry, component: string): UpstreamObserver {
  const requests = registered(registry, 'promgate_component_requests_total', (registers) => new Counter({
    name: 'promgate_component_requests_total',
    help: "Answers from each component of the gateway, by the component's status code.",
    labelNames: ['component', 'code'] as const,
    registers,
  }));
  const duration = registered(registry, 'promgate_component_request_duration_seconds', (registers) => new Histogram({
    name: 'promgate_component_request_duration_seconds',
    help: "Time from sending a request to a component to its answer's headers.",
    labelNames: ['component'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }));
  const errors = registered(registry, 'promgate_component_errors_total', (registers) => new Counter({
    name: 'promgate_component_errors_total',
    help: 'Requests to each component that failed: unavailable (502), timeout (504 or stalled), or interrupted mid-answer.',
    labelNames: ['component', 'kind'] as const,
    registers,
  }));
  const proxied = registered(registry, 'cortex_gateway_proxy_requests_total', (registers) => new Counter({
    name: 'cortex_gateway_proxy_requests_total',
    help: 'The total number of requests that were proxied (cortex-gateway\'s name), by target: the component.',
    labelNames: ['targetname'] as const,
    registers,
  }));
  const sent = proxied.labels({ targetname: component });
  const latency = duration.labels({ component });
  const byCode = new Map<number, Counter.Internal>();
  const byKind = new Map<UpstreamFailure, Counter.Internal>();
  return {
    sent: () => sent.inc(),
    answered(status, seconds) {
      let counter = byCode.get(status);
      if (counter === undefined) {
        counter = requests.labels({ component, code: String(status) });
        byCode.set(status, counter);
      }
      counter.inc();
      latency.observe(seconds);
    },
    failed(kind) {
      let counter = byKind.get(kind);
      if (counter === undefined) {
        counter = errors.labels({ component, kind });
        byKind.set(kind, counter);
      }
      counter.inc();
    },
  };
}

/** The tenant ids the gateway's users are granted (as they are sent: `a|b` for several), kept while the users stay. */
export function configuredTenants(users: () => readonly UserEntry[]): () => ReadonlySet<string> {
  let known: { from: readonly UserEntry[]; ids: ReadonlySet<string> } | undefined;
  return () => {
    const from = users();
    if (known?.from !== from) {
      known = { from, ids: new Set(from.flatMap((u) => (u.tenantIds !== undefined && u.tenantIds.length > 0 ? [joinTenants(u.tenantIds)] : []))) };
    }
    return known.ids;
  };
}

/** Why an authentication failed, as cortex-gateway says it (no_token, token_not_valid), and promgate's own two. */
function failureReason(outcome: Extract<AuthOutcome, { ok: false }>): string {
  if (outcome.absent === true) return 'no_token';
  if (outcome.status === 403) return 'forbidden';
  if (outcome.status === 429) return 'busy';
  return 'token_not_valid';
}

/**
 * The authenticator, its outcomes counted under cortex-gateway's names: failures by reason, successes by tenant.
 * The tenant label is bounded by the configuration whatever the tokens say: a configured tenant's id, UNLISTED_TENANT
 * for any other (a JWT's tenant no user of the files has), '' for a credential with no tenant id.
 */
export function countedAuthenticator(inner: Authenticator, tenants: () => ReadonlySet<string>, registry: Registry): Authenticator {
  const failures = registered(registry, 'cortex_gateway_failed_authentications_total', (registers) => new Counter({
    name: 'cortex_gateway_failed_authentications_total',
    help: 'The total number of failed authentications (cortex-gateway\'s name), by reason: no_token, token_not_valid, forbidden, busy.',
    labelNames: ['reason'] as const,
    registers,
  }));
  const successes = registered(registry, 'cortex_gateway_succeeded_authentications_total', (registers) => new Counter({
    name: 'cortex_gateway_succeeded_authentications_total',
    help: `The total number of succeeded authentications (cortex-gateway's name), by tenant: a configured tenant, "${UNLISTED_TENANT}" for another, "" for none.`,
    labelNames: ['tenant'] as const,
    registers,
  }));
  const byReason = new Map<string, Counter.Internal>();
  const byTenant = new Map<string, Counter.Internal>();
  const count = (outcome: AuthOutcome): AuthOutcome => {
    let counter: Counter.Internal | undefined;
    if (outcome.ok) {
      const id = outcome.principal.grant.tenantId;
      const tenant = id === undefined ? '' : tenants().has(id) ? id : UNLISTED_TENANT;
      counter = byTenant.get(tenant);
      if (counter === undefined) {
        counter = successes.labels({ tenant });
        byTenant.set(tenant, counter);
      }
    } else {
      const reason = failureReason(outcome);
      counter = byReason.get(reason);
      if (counter === undefined) {
        counter = failures.labels({ reason });
        byReason.set(reason, counter);
      }
    }
    counter.inc();
    return outcome;
  };
  return {
    authenticate(request) {
      const outcome = inner.authenticate(request);
      return outcome instanceof Promise ? outcome.then(count) : count(outcome);
    },
    close: () => inner.close(),
  };
}
