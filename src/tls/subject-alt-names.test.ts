import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Certificates } from '../../test/support/certificates.js';
import { canonicalAltName, subjectAltNames } from './subject-alt-names.js';

describe('subjectAltNames', () => {
  it('reads the entries of Node\'s subjectaltname text', () => {
    assert.deepEqual(subjectAltNames('DNS:a.example, URI:spiffe://example.org/alice, email:alice@example.org, IP Address:127.0.0.1'), [
      { kind: 'DNS', value: 'a.example' },
      { kind: 'URI', value: 'spiffe://example.org/alice' },
      { kind: 'email', value: 'alice@example.org' },
      { kind: 'IP Address', value: '127.0.0.1' },
    ]);
    assert.deepEqual(subjectAltNames(undefined), []);
    assert.deepEqual(subjectAltNames(''), []);
  });

  it('keeps a quoted value whole: a name holding ", DNS:admin" is one name, never two (CVE-2021-44532)', () => {
    assert.deepEqual(subjectAltNames('DNS:"bob\\u002c DNS:admin", DNS:c'), [
      { kind: 'DNS', value: 'bob, DNS:admin' },
      { kind: 'DNS', value: 'c' },
    ]);
    assert.deepEqual(subjectAltNames('URI:"a\\"b"'), [{ kind: 'URI', value: 'a"b' }]);
  });

  it('refuses malformed text rather than guess', () => {
    assert.equal(subjectAltNames('DNS:"unterminated'), undefined);
    assert.equal(subjectAltNames('no-colon'), undefined);
    assert.equal(subjectAltNames('DNS:a, :b'), undefined);
    assert.equal(subjectAltNames('DNS:"\u0001"'), undefined);
  });

  it('reads what Node makes of a real certificate with a separator inside a name', () => {
    const certificates = new Certificates();
    const ca = certificates.authority('ca');
    const pair = certificates.issue(ca, 'hostile', { cn: 'bob', usage: 'client', sans: ['DNS:bob, DNS:admin', 'IP:fe80::1:2', 'email:x@example.org'] });
    const names = subjectAltNames(new X509Certificate(readFileSync(pair.cert)).subjectAltName);
    assert.deepEqual(names, [
      { kind: 'DNS', value: 'bob, DNS:admin' },
      { kind: 'IP Address', value: 'FE80:0:0:0:0:0:1:2' },
      { kind: 'email', value: 'x@example.org' },
    ]);
    assert.equal(canonicalAltName(names![1]!), 'fe80::1:2', 'IPv6 as Go prints it');
    assert.equal(canonicalAltName(names![0]!), 'bob, DNS:admin');
  });
});
