import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWebConfig } from './web-config.js';

const FILE = '/etc/promgate/web.yml';
const parse = (text: string) => parseWebConfig(text, FILE);
const refusal = (text: string): string => {
  const result = parse(text);
  return result.ok ? 'loaded' : result.error;
};

describe("parseWebConfig: Prometheus's web configuration file", () => {
  it("takes Prometheus's tls_server_config, files relative to the file's directory, with Prometheus's defaults", () => {
    const result = parse('tls_server_config:\n  cert_file: tls.crt\n  key_file: /keys/tls.key\n');
    assert.ok(result.ok);
    assert.deepEqual(result.value.tls, {
      certFile: '/etc/promgate/tls.crt',
      keyFile: '/keys/tls.key',
      clientAuth: 'NoClientCert',
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      honorCipherOrder: true,
    });
  });

  it('takes every key Prometheus documents for tls_server_config', () => {
    const result = parse(`tls_server_config:
  cert_file: tls.crt
  key_file: tls.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  client_allowed_sans: [alice.clients.example, spiffe://example.org/alice]
  min_version: TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]
  curve_preferences: [X25519, CurveP256]
  prefer_server_cipher_suites: false
http_server_config:
  http2: false
`);
    assert.ok(result.ok, result.ok ? '' : result.error);
    assert.deepEqual(result.value.tls, {
      certFile: '/etc/promgate/tls.crt',
      keyFile: '/etc/promgate/tls.key',
      clientCaFile: '/etc/promgate/ca.crt',
      clientAuth: 'RequireAndVerifyClientCert',
      clientAllowedSans: ['alice.clients.example', 'spiffe://example.org/alice'],
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      // TLS 1.3's suite names are taken and ignored, as Go ignores them.
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305',
      curves: 'X25519:P-256',
      honorCipherOrder: false,
    });
    assert.deepEqual(result.value.warnings, []);
  });

  it('serves plain HTTP when the file configures no TLS, as Prometheus does', () => {
    for (const text of ['', '# nothing\n', 'tls_server_config:\n', 'http_server_config:\n  http2: false\n']) {
      const result = parse(text);
      assert.ok(result.ok, text);
      assert.equal(result.value.tls, undefined, text);
    }
  });

  it('takes RequireClientCert, the older name Prometheus still takes', () => {
    const result = parse('tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireClientCert\n');
    assert.ok(result.ok);
    assert.equal(result.value.tls?.clientAuth, 'RequireAnyClientCert');
  });

  it('says http2 is ignored: promgate serves HTTP/1.1', () => {
    const result = parse('tls_server_config:\n  cert_file: a\n  key_file: b\nhttp_server_config:\n  http2: true\n');
    assert.ok(result.ok);
    assert.deepEqual(result.value.warnings, [`${FILE}: http_server_config.http2 ignored: promgate serves HTTP/1.1`]);
  });

  const refused: [string, string, string][] = [
    ['an unknown key, as Prometheus refuses it', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  cert_fiel: c\n', `${FILE}: tls_server_config.cert_fiel: unknown field`],
    ['an unknown top-level key', 'tls_config:\n  cert_file: a\n', `${FILE}: tls_config: unknown field`],
    ['basic_auth_users: promgate has its own users', 'basic_auth_users:\n  alice: $2y$10$x\n', `${FILE}: basic_auth_users: not supported: promgate's users come from --auth-config`],
    ['inline certificates', 'tls_server_config:\n  cert: "-----BEGIN"\n  key_file: b\n', `${FILE}: tls_server_config.cert: not supported: give the certificate as cert_file`],
    ['response headers', 'http_server_config:\n  headers:\n    X-Frame-Options: deny\n', `${FILE}: http_server_config.headers: not supported: promgate does not add response headers`],
    ['a certificate without its key', 'tls_server_config:\n  cert_file: a\n', `${FILE}: tls_server_config.key_file: is required`],
    ['a client CA alone', 'tls_server_config:\n  client_ca_file: ca\n', `${FILE}: tls_server_config.cert_file: is required`],
    ['an unknown client auth type', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always\n', `${FILE}: tls_server_config.client_auth_type: must be one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert`],
    ['client CAs that are never asked for', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca\n', `${FILE}: tls_server_config.client_ca_file is given but tls_server_config.client_auth_type is NoClientCert: client certificates would never be asked for`],
    [
      'verification against the public CAs (Go verifies against the system roots without a client CA)',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n',
      `${FILE}: tls_server_config.client_auth_type RequireAndVerifyClientCert needs tls_server_config.client_ca_file: promgate never verifies client certificates against public CAs`,
    ],
    [
      'allowed SANs where a connection may come without a certificate',
      'tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca\n  client_allowed_sans: [x]\n',
      `${FILE}: tls_server_config.client_allowed_sans needs tls_server_config.client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert`,
    ],
    ['an unknown TLS version', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n', `${FILE}: tls_server_config.min_version: must be one of TLS12, TLS13`],
    ['TLS 1.0, which Go takes and OpenSSL 3 refuses whatever the minimum says', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n', `${FILE}: tls_server_config.min_version: TLS 1.0 and 1.1 are not served: OpenSSL 3 refuses them`],
    ["Cortex's spelling, which Prometheus's file does not take", 'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: VersionTLS12\n', `${FILE}: tls_server_config.min_version: must be one of TLS12, TLS13`],
    ['a minimum above the maximum', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n', `${FILE}: tls_server_config.min_version: the minimum TLS version TLSv1.3 is above the maximum TLSv1.2`],
    ['an insecure cipher suite Go lists apart', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n', `${FILE}: tls_server_config.cipher_suites: unknown or insecure cipher suite "TLS_RSA_WITH_RC4_128_SHA"`],
    ['an invented cipher suite', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_MADE_UP]\n', `${FILE}: tls_server_config.cipher_suites: unknown or insecure cipher suite "TLS_MADE_UP"`],
    ['an unknown curve', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [P-256]\n', `${FILE}: tls_server_config.curve_preferences: unknown curve "P-256"`],
    ['a file name that is not a string', 'tls_server_config:\n  cert_file: [a]\n  key_file: b\n', `${FILE}: tls_server_config.cert_file: must be a string`],
    ['a mapping that is a list', 'tls_server_config: [a]\n', `${FILE}: tls_server_config: must be a mapping`],
    ['a document that is a scalar', 'just text\n', `${FILE}: must be a mapping`],
    ['a repeated key', 'tls_server_config:\n  cert_file: a\n  cert_file: b\n', `${FILE}: Map keys must be unique at line 3, column 3:\n\n  cert_file: a\n  cert_file: b\n  ^\n`],
  ];
  for (const [what, text, error] of refused) {
    it(`refuses ${what}`, () => assert.equal(refusal(text), error));
  }

  it('refuses an alias bomb without expanding it', () => {
    const levels = 'abcdefghij'.split('');
    const lines = [`a: &a ["x","x","x","x","x","x","x","x","x","x"]`];
    for (let i = 1; i < levels.length; i++) lines.push(`${levels[i]}: &${levels[i]} [${Array(10).fill(`*${levels[i - 1]}`).join(',')}]`);
    assert.match(refusal(`${lines.join('\n')}\n`), /^\/etc\/promgate\/web\.yml: .*(alias|Excessive)/i);
  });
});
