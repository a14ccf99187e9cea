import { rebuildParams, type ParamRules } from '../../enforce/params.js';
import { encodeParam } from '../../http/form.js';
import { isLabelName } from '../../labels.js';
import { badData, paramsRefusal, stream, type Handler } from '../route.js';

const SERIES: ParamRules = { query: false, selectors: 'api', matchErrorPrefix: 'invalid parameter "match[]": ' };
// Prometheus's words: only /api/v1/series names the parameter.
const LABELS: ParamRules = { query: false, selectors: 'api', matchErrorPrefix: '' };

/** /api/v1/series: `match[]` selectors are required, and each gets the tenant's matchers. */
export const seriesHandler: Handler = ({ params, principal, cache }) => {
  const rebuilt = rebuildParams(params, principal, SERIES, cache);
  if (!rebuilt.ok) return paramsRefusal(rebuilt.error);
  if (rebuilt.value.matches === 0) return badData('no match[] parameter provided');
  return stream({ path: '/api/v1/series', params: rebuilt.value.encoded });
};

/**
 * /api/v1/labels and /api/v1/label/<name>/values: each `match[]` gets the tenant's matchers; without one, the
 * tenant's own selector is added, so that only the tenant's series are looked at.
 */
export function labelsHandler(path: string): Handler {
  return ({ params, principal, segments, cache }) => {
    let upstreamPath = path;
    if (segments.length > 0) {
      const name = labelName(segments[0]!);
      if (!name.ok) return name;
      upstreamPath = `/api/v1/label/${name.value}/values`;
    }
    const rebuilt = rebuildParams(params, principal, LABELS, cache);
    if (!rebuilt.ok) return paramsRefusal(rebuilt.error);
    let encoded = rebuilt.value.encoded;
    if (rebuilt.value.matches === 0 && principal.matchers.length > 0) {
      const own = encodeParam('match[]', principal.key);
      encoded = encoded.length === 0 ? own : `${encoded}&${own}`;
    }
    return stream({ path: upstreamPath, params: encoded });
  };
}

/**
 * The `<name>` segment of `/api/v1/label/<name>/values`, percent-decoded once and validated. Names outside the
 * classic syntax (Prometheus 3 UTF-8 names) reach this path as their `U__` escaped form, which is inside it, so
 * nothing that could change the upstream path gets through.
 */
function labelName(segment: string) {
  let name: string;
  try {
    name = segment.includes('%') ? decodeURIComponent(segment) : segment;
  } catch {
    return badData(`invalid label name ${JSON.stringify(segment)}`);
  }
  return isLabelName(name) ? { ok: true as const, value: name } : badData(`invalid label name ${JSON.stringify(name)}`);
}
