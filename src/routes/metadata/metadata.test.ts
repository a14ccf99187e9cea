import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { A, decide, refusal, scripted, sent } from '../../../test/support/routes.js';
import type { Param } from '../../http/form.js';
import type { JsonAnswer, JsonClient } from '../../upstream/json.js';

const sources = { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'j', instance: 'i' }, value: [1, '1'] }] } } };
const targets = {
  status: 200,
  body: {
    status: 'success',
    data: [
      { target: { job: 'j', instance: 'i' }, metric: 'up', type: 'gauge', help: 'mine', unit: '' },
      { target: { job: 'other', instance: 'i' }, metric: 'up', type: 'gauge', help: 'theirs', unit: '' },
    ],
  },
};

async function run(params: Param[], client: JsonClient): Promise<JsonAnswer> {
  const decided = decide('/api/v1/metadata', params, A);
  assert.ok(decided.ok && decided.value.kind === 'answer', JSON.stringify(decided));
  return decided.value.run(client);
}

describe('metadata', () => {
  it("answers a tenant with matchers from its own targets' metadata", async () => {
    const client = scripted(sources, targets);
    const answer = await run([['metric', 'up'], ['limit', '5']], client);
    assert.deepEqual(JSON.parse(JSON.stringify(answer.body)), { status: 'success', data: { up: [{ type: 'gauge', help: 'mine', unit: '' }] } });
    assert.deepEqual(client.asked.map((a) => a.path), ['/api/v1/query', '/api/v1/targets/metadata']);
    assert.deepEqual(client.asked[0]!.params, [['query', 'group by (__name__, job, instance) ({namespace="tenant-a"})']]);
    assert.deepEqual(client.asked[1]!.params, [['match_target', '{job=~"j",instance=~"i"}'], ['metric', 'up']]);
  });

  it('passes an upstream error answer on, and asks nothing more when the tenant has no series', async () => {
    const refused = { status: 503, body: { status: 'error', errorType: 'unavailable', error: 'busy' } };
    assert.deepEqual(await run([], scripted(refused)), refused);
    const none = { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } };
    const client = scripted(none);
    assert.deepEqual(await run([], client), { status: 200, body: { status: 'success', data: {} } });
    assert.equal(client.asked.length, 1);
  });

  it('refuses an upstream without per-target metadata, rather than guess', async () => {
    await assert.rejects(run([], scripted(sources, { status: 404, body: {} })), /no \/api\/v1\/targets\/metadata/);
  });

  it('streams the request of a tenant known by id, with its parameters as sent', () => {
    assert.deepEqual(sent('/api/v1/metadata', [['limit', '5']], []), [['limit', '5']]);
  });

  it('refuses limits that are not numbers, and parameters given twice', () => {
    assert.equal(refusal('/api/v1/metadata', [['limit', 'x']]), 'limit must be a number');
    assert.equal(refusal('/api/v1/metadata', [['limit_per_metric', '1.5']]), 'limit_per_metric must be a number');
    assert.equal(refusal('/api/v1/metadata', [['metric', 'a'], ['metric', 'b']]), 'parameter "metric" given more than once');
  });
});
