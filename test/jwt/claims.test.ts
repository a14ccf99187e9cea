import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimAt, readGrant } from '../../src/auth/jwt/claims.js';

const NAMES = { namespaces: 'namespaces', labels: 'labels', tenant: 'tenant_id' };

describe('claimAt', () => {
  const payload = {
    realm_access: { roles: ['a'] },
    'https://example.com/ns': ['b'],
    'a.b': 'whole name',
    a: { b: 'path' },
    list: [{ x: 1 }],
  };
  const table: [string, unknown][] = [
    ['realm_access.roles', ['a']],
    ['https://example.com/ns', ['b']],
    ['a.b', 'whole name'],
    ['realm_access', { roles: ['a'] }],
    ['realm_access.missing', undefined],
    ['list.0.x', undefined],
    ['constructor', undefined],
    ['realm_access.constructor', undefined],
    ['__proto__', undefined],
    ['toString', undefined],
    ['', undefined],
  ];
  for (const [path, want] of table) {
    it(`${JSON.stringify(path)} → ${JSON.stringify(want)}`, () => assert.deepEqual(claimAt(payload, path), want));
  }
});

describe('readGrant', () => {
  it('takes strings or lists, drops repeats, and reads the tenant id', () => {
    const grant = readGrant({ namespaces: ['a', 'a', 'b'], labels: { team: 'x', env: ['p', 'q'] }, tenant_id: "t-1.(x)*'!" }, NAMES);
    assert.deepEqual(grant, { ok: true, value: { namespaces: ['a', 'b'], labels: { team: ['x'], env: ['p', 'q'] }, tenantId: "t-1.(x)*'!" } });
    assert.deepEqual(readGrant({ namespaces: 'solo' }, NAMES), { ok: true, value: { namespaces: ['solo'], labels: {} } });
  });

  it('refuses tenant ids Cortex would not take, or would read as several tenants', () => {
    for (const id of ['a|b', '.', '..', 'x'.repeat(151), 'a b', 'a/b', 'é']) {
      assert.equal(readGrant({ tenant_id: id }, NAMES).ok, false, id);
    }
    assert.equal(readGrant({ tenant_id: 'x'.repeat(150) }, NAMES).ok, true);
  });
});
