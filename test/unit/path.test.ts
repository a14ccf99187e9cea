import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENDPOINTS, LABEL_VALUES, allowList, findRoute } from '../../src/enforce/endpoints.js';
import { labelNameFromSegment, parseTarget } from '../../src/enforce/path.js';

describe('parseTarget', () => {
  const refused = [
    '//api/v1/query',
    '/api//v1/query',
    '/api/v1/./query',
    '/api/v1/query/.',
    '/api/v1/query/..',
    '/api/v1/query/../targets',
    '/./api/v1/query',
    '/api/v1/query%2F..%2Ftargets',
    '/api/v1/query%2f',
    '/api/v1/%2E%2E/targets',
    '/api/v1/%2equery',
    '/api/v1/query%5C',
    '/api/v1/query%5c',
    '/api/v1\\query',
    '/api/v1/query#x',
    'api/v1/query',
    'http://evil/api/v1/query',
    '*',
    '',
  ];
  for (const target of refused) {
    it(`refuses ${JSON.stringify(target)}`, () => assert.equal(parseTarget(target).ok, false));
  }

  const accepted: [string, string, string][] = [
    ['/api/v1/query', '/api/v1/query', ''],
    ['/api/v1/query?query=up', '/api/v1/query', 'query=up'],
    ['/api/v1/query?query=a/../b//c%2F', '/api/v1/query', 'query=a/../b//c%2F'],
    ['/api/v1/query/', '/api/v1/query/', ''],
    ['/api/v1/%71uery', '/api/v1/%71uery', ''],
    ['/api/v1/query..x', '/api/v1/query..x', ''],
    ['/-/healthy', '/-/healthy', ''],
    ['/api/v1/query?', '/api/v1/query', ''],
  ];
  for (const [target, path, query] of accepted) {
    it(`splits ${JSON.stringify(target)}`, () => assert.deepEqual(parseTarget(target), { ok: true, value: { path, query } }));
  }
});

describe('labelNameFromSegment', () => {
  for (const [segment, name] of [['job', 'job'], ['__name__', '__name__'], ['%6Aob', 'job'], ['U__my_2e_label', 'U__my_2e_label'], ['_1', '_1']]) {
    it(`reads ${segment} as ${name}`, () => assert.deepEqual(labelNameFromSegment(segment!), { ok: true, value: name }));
  }
  for (const segment of ['1job', 'bad-name', 'a.b', '%ff', '%', '%2Fetc', 'a%20b', 'ä', '..', 'job%3Fx=1', '']) {
    it(`refuses ${JSON.stringify(segment)}`, () => assert.equal(labelNameFromSegment(segment).ok, false));
  }
});

describe('findRoute and allowList', () => {
  const { allowed } = allowList();
  it('finds every table endpoint by its exact path', () => {
    for (const endpoint of ENDPOINTS) {
      if (endpoint.name === LABEL_VALUES) continue;
      assert.equal(findRoute(endpoint.name, allowed)?.endpoint, endpoint);
    }
  });
  it('finds label values with its raw name segment', () => {
    assert.deepEqual(findRoute('/api/v1/label/job/values', allowed), { endpoint: allowed.get(LABEL_VALUES), labelSegment: 'job' });
  });
  for (const path of ['/api/v1/query/', '/api/v1/Query', '/api/v1/label//values', '/api/v1/label/a/b/values', '/api/v1/label/values', '/api/v1/targets', '/api/v1']) {
    it(`finds nothing at ${path}`, () => assert.equal(findRoute(path, allowed), undefined));
  }
  it('--protected-endpoints narrows and never widens', () => {
    const { allowed: narrowed, ignored } = allowList(['/api/v1/query', '/api/v1/targets', '/api/v1/label/:name/values', '/admin']);
    assert.deepEqual([...narrowed.keys()], ['/api/v1/query', LABEL_VALUES]);
    assert.deepEqual(ignored, ['/api/v1/targets', '/admin']);
    assert.equal(findRoute('/api/v1/series', narrowed), undefined);
  });
});
