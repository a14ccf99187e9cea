import { encodeParam } from '../../http/form.js';
import { isFederated } from '../../tenant.js';
import { stream, type Handler, type Refusal } from '../route.js';
import type { Result } from '../../result.js';

const forbidden = (message: string): Result<never, Refusal> => ({ ok: false, error: { status: 403, errorType: 'forbidden', message } });

/**
 * Gateway mode's `header` routes: the request goes to its component as it came, the path whole, the parameters
 * re-encoded and the body streamed untouched, for an upstream that keeps tenants apart by X-Scope-OrgID. A
 * credential that carries label matchers is refused here, since nothing on such a route could apply them: a
 * restriction a credential states is never dropped. A remote-write push (`push`) goes to one tenant only.
 */
export function passThroughRoute(push: boolean): Handler {
  return ({ principal, path, params }) => {
    if (principal.matchers.length > 0) {
      return forbidden(`access denied: this credential is confined to ${principal.key}, which ${path} (an X-Scope-OrgID route) cannot apply`);
    }
    const tenant = principal.grant.tenantId;
    if (push && tenant !== undefined && isFederated(tenant)) {
      return forbidden('access denied: a push writes to one tenant, and this credential names several');
    }
    return stream({ path, params: params.map(([name, value]) => encodeParam(name, value)).join('&') });
  };
}

/** Whatever a `labels` route's prefix holds beside Prometheus's query APIs: promgate cannot enforce it by label. */
export const notEnforceable: Handler = ({ path }) => ({
  ok: false,
  error: { status: 404, errorType: 'not_found', message: `${path}: not an endpoint promgate can enforce by label` },
});
