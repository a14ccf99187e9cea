import { targetSelector, tenantMetadata, tenantSources, tenantSourcesQuery, type MetadataQuery } from '../../enforce/metadata.js';
import { rebuildParams, type ParamRules } from '../../enforce/params.js';
import { encodeParam, type Param } from '../../http/form.js';
import { ok, type Result } from '../../result.js';
import { BadUpstream, filterAnswer, type JsonClient } from '../../upstream/json.js';
import { badData, paramsRefusal, stream, type Action, type Handler, type Refusal } from '../route.js';

const PLAIN: ParamRules = { query: false, selectors: 'api', matchErrorPrefix: '' };
// What /api/v1/metadata reads, when promgate answers it itself.
const ANSWERED: ParamRules = { ...PLAIN, take: new Set(['metric', 'limit', 'limit_per_metric']) };
// Go's strconv.Atoi, as Prometheus parses them.
const INTEGER = /^[+-]?\d{1,15}$/;

/**
 * /api/v1/metadata. A tenant known by id only is isolated by the upstream, which reads its own parameters: the
 * request streams there. For a tenant with matchers promgate makes the answer: Prometheus keeps metadata per
 * scrape target but merges it by name in /api/v1/metadata, so promgate asks which targets wrote the tenant's
 * series, reads those targets' metadata from /api/v1/targets/metadata, and keeps the entries the tenant owns.
 */
export const metadataHandler: Handler = ({ params, principal, cache }) => {
  if (principal.matchers.length === 0) {
    const rebuilt = rebuildParams(params, principal, PLAIN, cache);
    return rebuilt.ok ? stream({ path: '/api/v1/metadata', params: rebuilt.value.encoded }) : paramsRefusal(rebuilt.error);
  }
  const rebuilt = rebuildParams(params, principal, ANSWERED, cache);
  if (!rebuilt.ok) return paramsRefusal(rebuilt.error);
  const query = metadataQuery(rebuilt.value.taken);
  if (!query.ok) return query;
  const sourcesQuery = encodeParam('query', tenantSourcesQuery(principal.matchers));
  return ok({ kind: 'answer', run: (client) => tenantAnswer(client, sourcesQuery, query.value) } satisfies Action);
};

function metadataQuery(taken: readonly Param[]): Result<MetadataQuery, Refusal> {
  const query = { metric: '', limit: -1, limitPerMetric: -1 };
  for (const [name, value] of taken) {
    if (name === 'metric') {
      query.metric = value;
      continue;
    }
    if (!INTEGER.test(value)) return badData(`${name} must be a number`);
    if (name === 'limit') query.limit = Number(value);
    else query.limitPerMetric = Number(value);
  }
  return ok(query);
}

async function tenantAnswer(client: JsonClient, sourcesQuery: string, query: MetadataQuery) {
  const sourcesAnswer = await client.get('/api/v1/query', sourcesQuery);
  // An upstream error answer (a refused query, an overloaded server) holds no series: passed on as it is.
  if (sourcesAnswer.status !== 200) return sourcesAnswer;
  const sources = tenantSources(sourcesAnswer.body);
  if (!sources.ok) throw new BadUpstream(sources.error);
  if (sources.value.size === 0) return { status: 200, body: { status: 'success', data: {} } };

  const selector = targetSelector(sources.value);
  const params = [
    ...(selector === undefined ? [] : [encodeParam('match_target', selector)]),
    ...(query.metric === '' ? [] : [encodeParam('metric', query.metric)]),
  ];
  const targetsAnswer = await client.get('/api/v1/targets/metadata', params.join('&'));
  if (targetsAnswer.status === 404) {
    throw new BadUpstream('the upstream has no /api/v1/targets/metadata, which promgate needs to tell one tenant metadata from another');
  }
  return filterAnswer(targetsAnswer, (data) => tenantMetadata(data, sources.value, query));
}
