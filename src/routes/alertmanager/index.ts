import type { Principal } from '../../auth/types.js';
import { filterText, redactedStatus, tenantAlertGroups, tenantAmAlerts } from '../../enforce/alertmanager.js';
import { labelSetTest } from '../../enforce/label-set.js';
import { ownsSilence, SILENCE_ID, tenantSilence, tenantSilences } from '../../enforce/silences.js';
import { encodeParam, type Param } from '../../http/form.js';
import { err, ok, type Result } from '../../result.js';
import { BadUpstream, filterAnswer, type DataFilter, type JsonAnswer, type JsonClient } from '../../upstream/json.js';
import { badData, stream, type Action, type Handler, type Refusal, type UpstreamCall } from '../route.js';

// Alertmanager's v2 API, which promgate's Alertmanager upstream is asked below (its path prefix comes before).
const ALERTS = '/api/v2/alerts';
const GROUPS = '/api/v2/alerts/groups';
const SILENCES = '/api/v2/silences';
const SILENCE = '/api/v2/silence/';
const STATUS = '/api/v2/status';

const refused = (status: number, errorType: Refusal['errorType'], message: string): Result<never, Refusal> => ({
  ok: false,
  error: { status, errorType, message },
});

const encoded = (params: readonly Param[]): string => params.map(([name, value]) => encodeParam(name, value)).join('&');

/** An answer action that asks `path` and sends on what `filter` keeps of Alertmanager's (bare) answer. */
const filtered = (path: string, params: string, filter: DataFilter): Result<Action, Refusal> =>
  ok({ kind: 'answer', run: async (client) => filterAnswer(await client.get(path, params), filter, 'bare') });

/** A tenant known by id only is isolated by its upstream (Mimir's Alertmanager): its requests go there as made. */
const byIdOnly = (principal: Principal): boolean => principal.matchers.length === 0;

/**
 * GET /api/v2/alerts and /api/v2/alerts/groups: the tenant's matchers are added to `filter`, so that Alertmanager
 * selects only the tenant's alerts, and the answer is filtered again, in case it did not (a second guard).
 */
export function amAlertsHandler(path: typeof ALERTS | typeof GROUPS): Handler {
  return ({ principal, params, method }) => {
    if (method !== 'GET') return refused(403, 'forbidden', 'access denied: tenants do not push alerts into the shared Alertmanager');
    if (byIdOnly(principal)) return stream({ path, params: encoded(params) });
    const filters = principal.matchers.map((m) => encodeParam('filter', filterText(m)));
    const visible = labelSetTest(principal.matchers);
    const keep = path === ALERTS ? (data: unknown) => tenantAmAlerts(data, visible) : (data: unknown) => tenantAlertGroups(data, visible);
    return filtered(path, [encoded(params), ...filters].filter((p) => p.length > 0).join('&'), keep);
  };
}

/**
 * /api/v2/silences. GET: only the tenant's own silences (enforce/silences.ts). POST: a new silence gets the
 * tenant's matchers; an update (with `id`) goes on only when the silence it replaces is the tenant's.
 */
export const silencesHandler: Handler = ({ principal, params, method, json }) => {
  if (method === 'GET') {
    if (byIdOnly(principal)) return stream({ path: SILENCES, params: encoded(params) });
    return filtered(SILENCES, encoded(params), (data) => tenantSilences(data, principal.matchers));
  }
  if (byIdOnly(principal)) return stream({ path: SILENCES, params: '' });
  const silence = tenantSilence(json, principal.matchers);
  if (!silence.ok) return badData(silence.error);
  const call: UpstreamCall = { path: SILENCES, params: '', json: silence.value.body };
  const { id } = silence.value;
  if (id === undefined) return stream(call);
  return ok({ kind: 'checked', check: async (client) => owned(await readSilence(client, id), principal, id, call) });
};

/**
 * /api/v2/silence/<id>. GET: the silence, or 404 unless it is the tenant's (another tenant's silence is not
 * told from one that does not exist). DELETE (expiring it): only the tenant's own; others get 403.
 */
export const silenceHandler: Handler = ({ principal, segments, method }) => {
  const id = segments[0]!;
  if (!SILENCE_ID.test(id)) return badData(`invalid silence id ${JSON.stringify(decodedForMessage(id))}: not a UUID`);
  const path = SILENCE + id;
  if (byIdOnly(principal)) return stream({ path, params: '' });
  if (method === 'DELETE') {
    return ok({ kind: 'checked', check: async (client) => owned(await readSilence(client, id), principal, id, { path, params: '' }) });
  }
  return ok({
    kind: 'answer',
    run: async (client): Promise<JsonAnswer> => {
      const read = await readSilence(client, id);
      if (read.ok && ownsSilence(read.value, principal.matchers)) return { status: 200, body: read.value };
      return { status: 404, body: { status: 'error', errorType: 'not_found', error: `silence ${id} not found` } };
    },
  });
};

/** GET /api/v2/status: Alertmanager's status with its configuration redacted (enforce/alertmanager.ts). */
export const amStatusHandler: Handler = ({ principal }) =>
  byIdOnly(principal) ? stream({ path: STATUS, params: '' }) : filtered(STATUS, '', redactedStatus);

/** The silence of an id, or `missing` when Alertmanager has none; anything else it answers is a bad upstream. */
async function readSilence(client: JsonClient, id: string): Promise<Result<unknown, 'missing'>> {
  const answer = await client.get(SILENCE + id, '');
  if (answer.status === 404) return err('missing');
  if (answer.status !== 200) throw new BadUpstream(`the upstream answered ${answer.status} when promgate read silence ${id}`);
  return ok(answer.body);
}

/** The call, when the silence read is the tenant's: 404 when there is none, 403 when it is another's. */
function owned(read: Result<unknown, 'missing'>, principal: Principal, id: string, call: UpstreamCall): Result<UpstreamCall, Refusal> {
  if (!read.ok) return refused(404, 'not_found', `silence ${id} not found`);
  if (!ownsSilence(read.value, principal.matchers)) return refused(403, 'forbidden', 'access denied: the silence is not yours');
  return ok(call);
}

function decodedForMessage(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
