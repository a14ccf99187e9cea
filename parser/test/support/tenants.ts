// The tenants whose enforced queries are checked against real Prometheus servers, and those servers: one holding every
// tenant's series, and one per tenant holding only the series it owns.
import { callApi, difference, normalise } from '../../../test/support/compare.js';
import { startTenantFixture, type Labels, type TenantFixture } from '../../../test/support/tenant-data.js';
import { quoteRegex, type Matcher } from '../../ts/index.js';

export interface Tenant {
  readonly matchers: Matcher[];
  /** The series the tenant's own server holds: what these matchers select. */
  readonly owns: (labels: Labels) => boolean;
}

export const TENANTS: Readonly<Record<string, Tenant>> = {
  'namespace tenant-a': {
    matchers: [{ name: 'namespace', type: '=', value: 'tenant-a' }],
    owns: (l) => l['namespace'] === 'tenant-a',
  },
  'namespaces tenant-a and tenant-b': {
    matchers: [{ name: 'namespace', type: '=~', value: ['tenant-a', 'tenant-b'].map(quoteRegex).join('|') }],
    owns: (l) => l['namespace'] === 'tenant-a' || l['namespace'] === 'tenant-b',
  },
  'label team=america': {
    matchers: [{ name: 'team', type: '=', value: 'america' }],
    owns: (l) => l['team'] === 'america',
  },
  'namespace not kube-system': {
    matchers: [{ name: 'namespace', type: '!=', value: 'kube-system' }, { name: 'namespace', type: '!=', value: '' }],
    owns: (l) => l['namespace'] !== undefined && l['namespace'] !== 'kube-system',
  },
};

/** The server holding every series of the namespaces tenant-a, tenant-b and kube-system, and one server per tenant. */
export function startTenantServers(tenants: Readonly<Record<string, Tenant>> = TENANTS): Promise<TenantFixture> {
  const owns = Object.fromEntries(Object.entries(tenants).map(([name, t]) => [name, t.owns]));
  return startTenantFixture(['tenant-a', 'tenant-b', 'kube-system'], owns);
}

export const RANGE_SECONDS = 1800;
const STEP_SECONDS = 60;

export interface Answers {
  readonly instant: unknown;
  readonly range: unknown;
}

/** The normalised instant answer at `end` and range answer over the 30 minutes before it, a point a minute. */
export async function answers(base: string, query: string, end: number): Promise<Answers> {
  const [instant, range] = await Promise.all([
    callApi(base, '/api/v1/query', { query, time: String(end) }),
    callApi(base, '/api/v1/query_range', { query, start: String(end - RANGE_SECONDS), end: String(end), step: String(STEP_SECONDS) }),
  ]);
  return { instant: normalise(instant.body), range: normalise(range.body) };
}

/** Where two answers differ: a sentence for each of the instant and range answers that does. */
export function answerDifferences(got: Answers, want: Answers): string[] {
  return (['instant', 'range'] as const).flatMap((kind) => {
    const diff = difference(got[kind], want[kind]);
    return diff === null ? [] : [`${kind} query: ${diff}`];
  });
}
