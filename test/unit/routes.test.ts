import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTarget } from '../../src/http/target.js';
import { PROMETHEUS_ROUTES, RouteTable } from '../../src/routes/table.js';
import { call, refusal } from '../support/routes.js';

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

describe('the label-values route', () => {
  for (const [segment, name] of [['job', 'job'], ['__name__', '__name__'], ['%6Aob', 'job'], ['U__my_2e_label', 'U__my_2e_label'], ['_1', '_1']]) {
    it(`reads ${segment} as ${name}`, () => assert.equal(call(`/api/v1/label/${segment}/values`, []).path, `/api/v1/label/${name}/values`));
  }
  for (const segment of ['1job', 'bad-name', 'a.b', '%ff', '%', '%2Fetc', 'a%20b', 'ä', '..', 'job%3Fx=1']) {
    it(`refuses ${JSON.stringify(segment)}`, () => assert.match(refusal(`/api/v1/label/${segment}/values`, []), /^invalid label name/));
  }
});

describe('RouteTable', () => {
  const table = new RouteTable(PROMETHEUS_ROUTES);
  const LABEL_VALUES = '/api/v1/label/<name>/values';
  it('finds every route by its exact path', () => {
    for (const route of PROMETHEUS_ROUTES) {
      if (route.path === LABEL_VALUES) continue;
      assert.deepEqual(table.find(route.path), { route, segments: [] });
    }
  });
  it('finds label values with its raw name segment', () => {
    assert.deepEqual(table.find('/api/v1/label/j%6Fb/values'), { route: table.byName(LABEL_VALUES), segments: ['j%6Fb'] });
  });
  for (const path of ['/api/v1/query/', '/api/v1/Query', '/api/v1/label//values', '/api/v1/label/a/b/values', '/api/v1/label/values', '/api/v1/targets', '/api/v1', '/api/v1/label/<name>/values/x']) {
    it(`finds nothing at ${path}`, () => assert.equal(table.find(path), undefined));
  }
  it('every route of the table reads series unless it is one of the few that cannot', () => {
    const open = PROMETHEUS_ROUTES.filter((r) => !r.readsSeries).map((r) => r.path);
    assert.deepEqual(open, ['/api/v1/status/buildinfo', '/api/v1/format_query', '/api/v1/parse_query']);
  });
  it('--protected-endpoints narrows and never widens', () => {
    const { table: narrowed, ignored } = table.narrowed(['/api/v1/query', '/api/v1/targets', '/api/v1/label/:name/values', '/admin', '/api/v1/label/*/values']);
    assert.deepEqual(narrowed.routes.map((r) => r.path), ['/api/v1/query', LABEL_VALUES]);
    assert.deepEqual(ignored, ['/api/v1/targets', '/admin']);
    assert.equal(narrowed.find('/api/v1/series'), undefined);
    assert.equal(table.narrowed(['/api/v1/label//values']).table.routes.length, 0);
  });
});
