import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { A, AB, refusal, sent } from '../../../test/support/routes.js';
import { enforceSelector } from 'promql-parser-wasm';

describe('federate', () => {
  it('enforces every match[], and adds nothing without one (Prometheus federates nothing then)', () => {
    assert.deepEqual(sent('/federate', [['match[]', 'up']], AB), [['match[]', enforceSelector('up', AB, 'federate')]]);
    assert.deepEqual(sent('/federate', []), []);
  });

  it('checks match[] as Prometheus does on /federate: no non-empty matcher is needed', () => {
    assert.deepEqual(sent('/federate', [['match[]', '{job=~".*"}']]), [['match[]', '{job=~".*",namespace="tenant-a"}']]);
    assert.deepEqual(sent('/federate', [['match[]', '{job=~".*"}']], []), [['match[]', '{job=~".*"}']]);
    assert.deepEqual(sent('/federate', [['match[]', '{}']], []), [['match[]', '{}']]);
  });

  it("refuses {} for a tenant: with the tenant's matchers added it would federate all theirs", () => {
    assert.match(refusal('/federate', [['match[]', '{}']], A), /match\[\] must contain at least one matcher/);
  });
});
