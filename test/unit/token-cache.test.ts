// Memory that grew with every distinct JWT (issue 17): each token's principal had a cache of its own. Now one budget
// bounds the enforced-query cache whatever the number of tokens: the red-team repro, driven through the real JWT
// authenticator and the real query route, in process (a smaller query count per token; the full repro over HTTP is
// `npm run bench:token-heap`).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mintToken, signingKeyFromSecret } from '../../src/auth/jwt/mint.js';
import type { Principal } from '../../src/auth/types.js';
import { EnforcedCache } from '../../src/enforce/params.js';
import { PROMETHEUS_ROUTES, RouteTable } from '../../src/routes/table.js';
import { authenticator, bearer, jwtOptions } from '../jwt/support.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMiB = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const BUDGET = 4 * 2 ** 20;
const TOKENS = 200;
const QUERIES = 64;

describe('the enforced-query cache under many tokens', () => {
  it(`stays within its budget for ${TOKENS} tokens of one grant and ${TOKENS} of a grant each`, async () => {
    const signer = signingKeyFromSecret('s');
    assert.ok(signer.ok);
    const auth = await authenticator(jwtOptions({ jwt: { secret: 's' } }));
    const route = new RouteTable(PROMETHEUS_ROUTES).find('/api/v1/query')!.route;
    const cache = new EnforcedCache({ maxBytes: BUDGET, maxParamLength: 4096 });

    const principals: Principal[] = [];
    for (let i = 0; i < 2 * TOKENS; i++) {
      const namespaces = [i < TOKENS ? 'tenant-a' : `tenant-${i}`];
      const outcome = await bearer(auth, await mintToken({ namespaces, labels: {}, subject: `u${i}` }, signer.value));
      assert.ok(outcome.ok);
      principals.push(outcome.principal);
    }
    // Tokens with one grant share its key: their cache entries are one set.
    assert.equal(new Set(principals.slice(0, TOKENS).map((p) => p.key)).size, 1);

    const before = heapMiB();
    let unbounded = 0;
    for (const principal of principals) {
      for (let q = 0; q < QUERIES; q++) {
        const query = `x{a="${randomBytes(3072).toString('base64').slice(0, 4089)}"}`;
        const decided = route.handler({ principal, params: [['query', query]], segments: [], cache });
        assert.ok(decided.ok && decided.value.kind === 'stream');
        unbounded += 2 * (query.length + decided.value.call.params.length);
      }
      assert.ok(cache.bytes <= BUDGET, `${cache.bytes} bytes held`);
    }
    const growth = heapMiB() - before;
    // What the old per-token caches would have held for the same requests: far beyond the margin below.
    assert.ok(unbounded / 2 ** 20 > 300, `${unbounded} bytes`);
    assert.ok(growth < BUDGET / 2 ** 20 + 40, `the heap grew by ${growth.toFixed(1)} MiB`);
    await auth.close();
  });
});
