import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { describe, it } from 'node:test';
import type { MtlsIdentity } from './certificate-identity.js';
import { createMtlsAuthenticator } from './mtls.js';
import type { AuthOutcome, RequestView } from './types.js';
import { parseUsersFile } from './users-file.js';

const USERS = `users:
  - username: alice
    password: alice-pw
    namespace: tenant-a
  - username: machine-1
    namespaces: [tenant-b, tenant-c]
    tenant: team-b
  - username: machine-1
    password: other-pw
    namespace: kube-system
  - username: spiffe://example.org/alice
    namespace: tenant-a
  - username: idle
  - username: alice.clients.example
    labels:
      team: america
`;

const entries = (() => {
  const parsed = parseUsersFile(USERS, 'users.yaml');
  assert.ok(parsed.ok);
  return parsed.value.users;
})();

/** A peer certificate as Node gives it: a subject object (several CNs an array) and the subjectaltname text. */
function certificate(cn: string | string[] | undefined, subjectaltname?: string): PeerCertificate {
  return { subject: cn === undefined ? {} : { CN: cn }, ...(subjectaltname !== undefined && { subjectaltname }) } as unknown as PeerCertificate;
}

function view(peerCertificate: PeerCertificate | undefined, verified = true): RequestView {
  return { header: () => undefined, peerCertificate, peerCertificateVerified: verified, remoteAddress: '127.0.0.1' };
}

function authenticate(identity: MtlsIdentity, request: RequestView): AuthOutcome {
  const outcome = createMtlsAuthenticator(() => entries, { identity, namespaceLabel: 'namespace' }).authenticate(request);
  assert.ok(!(outcome instanceof Promise));
  return outcome;
}

const granted = (outcome: AuthOutcome) => (outcome.ok ? { user: outcome.principal.user, key: outcome.principal.key, tenant: outcome.principal.grant.tenantId } : outcome);

describe('mtls authenticator', () => {
  it("names the user by the subject CN, who gets their entry's namespaces, labels and tenant", () => {
    assert.deepEqual(granted(authenticate('cn', view(certificate('alice')))), { user: 'alice', key: '{namespace="tenant-a"}', tenant: undefined });
  });

  it("takes a name's certificate-only entry (no password) before its password entries", () => {
    assert.deepEqual(granted(authenticate('cn', view(certificate('machine-1')))), {
      user: 'machine-1',
      key: '{namespace=~"tenant-b|tenant-c"}',
      tenant: 'team-b',
    });
  });

  it('picks a SAN with --mtls-identity', () => {
    const san = 'DNS:alice.clients.example, URI:spiffe://example.org/alice, email:alice';
    assert.equal(granted(authenticate('uri', view(certificate('nobody', san)))).user, 'spiffe://example.org/alice');
    assert.equal(granted(authenticate('dns', view(certificate('nobody', san)))).user, 'alice.clients.example');
    assert.equal(granted(authenticate('email', view(certificate('nobody', san)))).user, 'alice');
  });

  it('is absent without a certificate, so that the next authenticator of a chain decides', () => {
    assert.deepEqual(authenticate('cn', view(undefined)), { ok: false, status: 401, absent: true, reason: 'no client certificate' });
  });

  const refusals: [string, MtlsIdentity, RequestView, number, RegExp][] = [
    ['a certificate the handshake did not verify', 'cn', view(certificate('alice'), false), 401, /not verified/],
    ['a valid certificate that names no user', 'cn', view(certificate('mallory')), 401, /names no user \(cn: \["mallory"\]\)/],
    ['no CN at all', 'cn', view(certificate(undefined)), 401, /names no user/],
    ['a user granted nothing', 'cn', view(certificate('idle')), 403, /no namespace/],
    ['a name that differs only in case', 'cn', view(certificate('Alice')), 401, /names no user/],
    ['a name with a trailing dot', 'dns', view(certificate('x', 'DNS:alice.clients.example.')), 401, /names no user/],
    ['several CNs naming different users', 'cn', view(certificate(['alice', 'machine-1'])), 401, /several users/],
    ['several SANs naming different users', 'uri', view(certificate('x', 'URI:spiffe://example.org/alice, URI:alice')), 401, /several users/],
    ['a SAN smuggling a second name inside a quoted value', 'dns', view(certificate('x', 'DNS:"evil\\u002c DNS:alice.clients.example"')), 401, /names no user/],
    ['an unreadable subjectAltName', 'dns', view(certificate('x', 'DNS:"broken')), 401, /unreadable/],
    ['a SAN of another kind than asked for', 'email', view(certificate('x', 'DNS:alice')), 401, /names no user/],
  ];
  for (const [what, identity, request, status, reason] of refusals) {
    it(`refuses ${what}`, () => {
      const outcome = authenticate(identity, request);
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.equal(outcome.status, status);
      assert.equal(outcome.absent, undefined, 'a certificate was sent: the chain must not fall through to a password');
      assert.match(outcome.reason, reason);
    });
  }

  it('a certificate naming the same user twice is that user', () => {
    assert.equal(granted(authenticate('cn', view(certificate(['alice', 'alice'])))).user, 'alice');
  });

  it('follows the users as they change', () => {
    let current = entries;
    const authenticator = createMtlsAuthenticator(() => current, { identity: 'cn', namespaceLabel: 'namespace' });
    assert.equal((authenticator.authenticate(view(certificate('alice'))) as AuthOutcome).ok, true);
    const next = parseUsersFile('users:\n  - username: bob\n    namespace: b\n', 'users.yaml');
    assert.ok(next.ok);
    current = next.value.users;
    assert.equal((authenticator.authenticate(view(certificate('alice'))) as AuthOutcome).ok, false, 'alice removed');
    assert.equal((authenticator.authenticate(view(certificate('bob'))) as AuthOutcome).ok, true);
  });
});
