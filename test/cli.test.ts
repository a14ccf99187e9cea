// The command line as operators use it: --help, --version, bad flags and values (one line, status 2),
// k8spin's environment variables, Go-style single-dash flags, and `promgate enforce`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { enforce, enforceSelector } from 'promql-parser-wasm';
import { addRunOptions, parseDuration, parseSize, toRunOptions } from '../src/config/run-options.js';
import { ROOT, cliCommand } from './support/gateway.js';

function cli(args: string[], env: Record<string, string> = {}) {
  const [bin, argv] = cliCommand(args);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROM_PROXY_')));
  const r = spawnSync(bin, argv, { cwd: ROOT, env: { ...clean, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Parses `run` flags without running anything. */
function runOptions(args: string[], env: Record<string, string> = {}) {
  const saved = { ...process.env };
  for (const key of Object.keys(process.env)) if (key.startsWith('PROM_PROXY_')) delete process.env[key];
  Object.assign(process.env, env);
  try {
    const command = addRunOptions(new Command('run').exitOverride().configureOutput({ writeErr: () => {} }));
    command.parse(args, { from: 'user' });
    return toRunOptions(command);
  } finally {
    process.env = saved;
  }
}

describe('promgate CLI', () => {
  it('--version prints the package version, --help lists the commands', () => {
    const { version } = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8'));
    assert.deepEqual(cli(['--version']), { status: 0, stdout: `${version}\n`, stderr: '' });
    const help = cli(['--help']);
    assert.equal(help.status, 0);
    for (const command of ['run', 'enforce', 'hash-password', 'token']) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
    const runHelp = cli(['run', '--help']);
    for (const flag of ['--port', '--prometheus-endpoint', '--reload-interval', '--unprotected-endpoints', '--protected-endpoints', '--auth-type', '--auth-config', '--namespace-label', '--internal-port', '--upstream-timeout', '--max-body-size', '--log-level']) {
      assert.match(runHelp.stdout, new RegExp(flag));
    }
  });

  for (const [args, env] of [
    [['run', '--port', 'abc'], {}],
    [['run', '--no-such-flag'], {}],
    [['run', '--auth-type', 'ldap'], {}],
    [['run', '--upstream-timeout', 'soon'], {}],
    [['run', '--max-body-size', '10XB'], {}],
    [['run', '--prometheus-endpoint', 'ftp://x'], {}],
    [['run', '--alertmanager-endpoint', 'not a url'], {}],
    [['run'], { PROM_PROXY_ALERTMANAGER_ENDPOINT: 'http://am:9093/?x=1' }],
    [['run', '--unprotected-endpoints', '/api/v1/query'], {}],
    [['run', '--unprotected-endpoints', '/api/v2/silences'], {}],
    [['run', '--unprotected-endpoints', '/api/v1/rules'], {}],
    [['run', '--unprotected-endpoints', '//-/healthy'], {}],
    [['run'], { PROM_PROXY_PORT: '70000' }],
    [['run'], { PROM_PROXY_RELOAD_INTERVAL: 'often' }],
    [['no-such-command'], {}],
  ] as [string[], Record<string, string>][]) {
    it(`${args.join(' ')} ${JSON.stringify(env)}: one line on stderr, status 2`, () => {
      const r = cli(args, env);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^error: /);
    });
  }

  it('enforce prints the query as sent upstream', () => {
    const matchers = [
      { name: 'namespace', type: '=~' as const, value: 'a|b\\.c' },
      { name: 'team', type: '=' as const, value: 'x' },
    ];
    const r = cli(['enforce', '--namespace', 'a', '--namespace', 'b.c', '--label', 'team=x', 'sum(rate(http_requests_total[5m]))']);
    assert.deepEqual(r, { status: 0, stdout: `${enforce('sum(rate(http_requests_total[5m]))', matchers)}\n`, stderr: '' });
    const selector = cli(['enforce', '--selector', '--label', 'team=x', 'up']);
    assert.equal(selector.stdout, `${enforceSelector('up', [{ name: 'team', type: '=', value: 'x' }])}\n`);
    assert.equal(cli(['enforce', '--selector', '--label', 'team=x', '{job=~".*"}']).status, 1);
    assert.equal(cli(['enforce', '--selector', '--federate', '--label', 'team=x', '{job=~".*"}']).stdout, '{job=~".*",team="x"}\n');
    assert.equal(cli(['enforce', '--federate', '--label', 'team=x', 'up']).status, 2);
    const bad = cli(['enforce', '--namespace', 'a', 'sum(']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^error: .*parse error/);
    assert.equal(cli(['enforce', 'up']).status, 2);
  });
});

describe('run options', () => {
  it("has k8spin's defaults", () => {
    const r = runOptions([]);
    assert.ok(r.ok);
    assert.equal(r.value.port, 9092);
    assert.equal(r.value.prometheusEndpoint.href, 'http://localhost:9090/');
    assert.equal(r.value.reloadIntervalMinutes, 5);
    assert.deepEqual(r.value.unprotectedEndpoints, ['/-/healthy', '/-/ready']);
    assert.equal(r.value.protectedEndpoints, undefined);
    assert.deepEqual(r.value.authTypes, ['basic']);
    assert.equal(r.value.authConfig, 'authn.yaml');
    assert.equal(r.value.namespaceLabel, 'namespace');
    assert.equal(r.value.internalPort, 9093);
    assert.equal(r.value.upstreamTimeoutMs, 150_000);
    assert.equal(r.value.maxBodySize, 1024 * 1024);
    assert.equal(r.value.logLevel, 'info');
    assert.deepEqual(r.value.jwt, { requireExp: false, leewaySeconds: 60, namespacesClaim: 'namespaces', labelsClaim: 'labels', tenantClaim: 'tenant_id', metricsUser: 'tenant' });
    assert.equal(r.value.enforceCacheSize, 64 * 1024 * 1024);
  });

  it("reads k8spin's environment variables, flags winning over them", () => {
    const r = runOptions(['--port', '8000'], {
      PROM_PROXY_PORT: '7000',
      PROM_PROXY_PROMETHEUS_ENDPOINT: 'http://mimir:8080/prometheus',
      PROM_PROXY_RELOAD_INTERVAL: '0',
      PROM_PROXY_UNPROTECTED_ENDPOINTS: '/-/healthy',
      PROM_PROXY_PROTECTED_ENDPOINTS: '/api/v1/query,/federate',
      PROM_PROXY_AUTH_TYPE: 'jwt',
      PROM_PROXY_AUTH_CONFIG: 'https://idp/jwks.json',
      PROM_PROXY_JWT_SECRET: 's3cret',
      PROM_PROXY_JWT_REQUIRE_EXP: 'true',
    });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.port, 8000);
    assert.equal(r.value.prometheusEndpoint.href, 'http://mimir:8080/prometheus');
    assert.equal(r.value.reloadIntervalMinutes, 0);
    assert.deepEqual(r.value.unprotectedEndpoints, ['/-/healthy']);
    assert.deepEqual(r.value.protectedEndpoints, ['/api/v1/query', '/federate']);
    assert.deepEqual(r.value.authTypes, ['jwt']);
    assert.equal(r.value.authConfig, 'https://idp/jwks.json');
    assert.equal(r.value.jwt.secret, 's3cret');
    assert.equal(r.value.jwt.requireExp, true);
  });

  it('takes --alertmanager-endpoint (or PROM_PROXY_ALERTMANAGER_ENDPOINT) with its path prefix; none by default', () => {
    const none = runOptions([]);
    assert.ok(none.ok);
    assert.equal(none.value.alertmanagerEndpoint, undefined);
    const flag = runOptions(['--alertmanager-endpoint', 'http://am:9093/alertmanager']);
    assert.ok(flag.ok);
    assert.equal(flag.value.alertmanagerEndpoint?.href, 'http://am:9093/alertmanager');
    const env = runOptions([], { PROM_PROXY_ALERTMANAGER_ENDPOINT: 'https://am.example' });
    assert.ok(env.ok);
    assert.equal(env.value.alertmanagerEndpoint?.href, 'https://am.example/');
    assert.deepEqual(runOptions(['--alertmanager-endpoint', 'ftp://am']), { ok: false, error: '--alertmanager-endpoint must be an http or https URL' });
  });

  it('takes repeated and comma-separated endpoint lists', () => {
    const r = runOptions(['--unprotected-endpoints', '/-/healthy,/-/ready', '--unprotected-endpoints', '/api/v1/status/buildinfo']);
    assert.ok(r.ok);
    assert.deepEqual(r.value.unprotectedEndpoints, ['/-/healthy', '/-/ready', '/api/v1/status/buildinfo']);
  });

  it('leaves --auth-config empty for jwt with a secret or key and no explicit --auth-config', () => {
    const r = runOptions(['--auth-type', 'jwt', '--jwt-secret', 'x']);
    assert.ok(r.ok);
    assert.equal(r.value.authConfig, '');
  });

  it('parses durations and sizes as operators write them', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('45'), 45_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseSize('10MiB'), 10 * 1024 * 1024);
    assert.equal(parseSize('512KiB'), 512 * 1024);
    assert.equal(parseSize('1MB'), 1_000_000);
    assert.equal(parseSize('4096'), 4096);
    for (const bad of ['', '0s', '-1s', '25d', '1.5s', 'm']) assert.throws(() => parseDuration(bad), bad);
    for (const bad of ['', '0', '1XB', 'MiB', '-5']) assert.throws(() => parseSize(bad), bad);
  });

  it('shapes the TLS flags, and refuses what cannot work together, saying why', () => {
    const listener = ['--tls-cert-file', 'tls.crt', '--tls-key-file', 'tls.key'];
    const verified = [...listener, '--tls-client-ca-file', 'ca.crt', '--tls-client-auth', 'RequireAndVerifyClientCert'];
    const r = runOptions([...verified, '--auth-type', 'mtls,basic', '--mtls-identity', 'uri', '--tls-min-version', 'VersionTLS13']);
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(r.value.authTypes, ['mtls', 'basic']);
    assert.equal(r.value.mtlsIdentity, 'uri');
    assert.deepEqual(r.value.listenerTls, {
      from: 'flags',
      settings: { certFile: 'tls.crt', keyFile: 'tls.key', clientCaFile: 'ca.crt', clientAuth: 'RequireAndVerifyClientCert', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', honorCipherOrder: true },
    });
    assert.equal(runOptions([]).ok && runOptions([]).value.listenerTls, undefined);
    const web = runOptions(['--web.config.file', 'web.yml', '--auth-type', 'mtls']);
    assert.ok(web.ok);
    assert.deepEqual(web.value.listenerTls, { from: 'web-config', file: 'web.yml' }, 'mtls with a web configuration file is checked once the file is read');
    const upstream = runOptions(['--prometheus-endpoint', 'https://prom:9090', '--prometheus-ca-file', 'ca.crt', '--prometheus-cert-file', 'c.crt', '--prometheus-key-file', 'c.key', '--prometheus-server-name', 'prom.internal']);
    assert.ok(upstream.ok);
    assert.deepEqual(upstream.value.prometheusTls, { caFile: 'ca.crt', certFile: 'c.crt', keyFile: 'c.key', serverName: 'prom.internal', insecureSkipVerify: false });

    const refusals: [string[], RegExp][] = [
      [['--tls-cert-file', 'tls.crt'], /TLS needs both --tls-cert-file and --tls-key-file/],
      [['--tls-client-auth', 'RequireAndVerifyClientCert'], /TLS needs both/],
      [[...listener, '--web.config.file', 'web.yml'], /--web.config.file and the --tls-\* flags cannot be given together/],
      [[...listener, '--tls-client-ca-file', 'ca.crt'], /--tls-client-ca-file is given but --tls-client-auth is NoClientCert/],
      [[...listener, '--tls-client-auth', 'VerifyClientCertIfGiven'], /needs --tls-client-ca-file: promgate never verifies client certificates against public CAs/],
      [['--auth-type', 'mtls'], /--auth-type mtls needs a TLS listener/],
      [[...listener, '--tls-client-ca-file', 'ca.crt', '--tls-client-auth', 'RequireAnyClientCert', '--auth-type', 'mtls'], /needs client certificates verified in the handshake.*not RequireAnyClientCert/],
      [[...verified, '--auth-type', 'mtls,jwt'], /--auth-config is the users file, so JWTs need --jwt-secret or --jwt-public-key/],
      [['--prometheus-ca-file', 'ca.crt'], /need an https --prometheus-endpoint/],
      [['--prometheus-endpoint', 'https://p', '--prometheus-cert-file', 'c.crt'], /needs both --prometheus-cert-file and --prometheus-key-file/],
    ];
    for (const [args, message] of refusals) {
      const refused = runOptions(args);
      assert.equal(refused.ok, false, args.join(' '));
      assert.match(refused.ok ? '' : refused.error, message, args.join(' '));
    }
    assert.ok(runOptions([...verified, '--auth-type', 'mtls,jwt', '--jwt-secret', 's']).ok);
  });

  for (const args of [['--auth-type', 'basic,basic'], ['--auth-type', 'mtls,ldap'], ['--tls-client-auth', 'Always'], ['--tls-min-version', 'TLS14'], ['--tls-min-version', 'TLS11'], ['--mtls-identity', 'serial']]) {
    it(`run ${args.join(' ')}: one line on stderr, status 2`, () => {
      const r = cli(['run', ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^error: /);
    });
  }

  it('reads Go-style single-dash flags of run', () => {
    const r = cli(['run', '-port=abc']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--port/);
  });
});
