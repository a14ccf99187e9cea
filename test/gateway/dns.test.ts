// DNS round-robin against a real DNS server on loopback (dnsmasq). The two components behind the name are plain
// Node servers on 127.0.0.2 and 127.0.0.3, stand-ins that say which address answered: what is tested is where
// promgate sends each request.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDns, type DnsServer } from '../support/dns.js';
import { basicAuth, startGateway, type Gateway } from '../support/gateway.js';
import { freePort } from '../support/prometheus.js';

const NAME = 'frontend.promgate.test';

interface Component {
  readonly address: string;
  readonly seen: IncomingHttpHeaders[];
  close(): Promise<void>;
}

async function startComponent(address: string, port: number): Promise<Component> {
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'success', data: address }));
  });
  await new Promise<void>((resolve) => server.listen(port, address, resolve));
  return {
    address,
    seen,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('gateway mode: DNS round-robin over a real DNS server', () => {
  let dns: DnsServer;
  let port: number;
  let a: Component;
  let b: Component;
  let gateway: Gateway;

  before(async () => {
    port = await freePort();
    [a, b] = await Promise.all([startComponent('127.0.0.2', port), startComponent('127.0.0.3', port)]);
    dns = await startDns({ [NAME]: ['127.0.0.2', '127.0.0.3'] });
    const dir = mkdtempSync(join(tmpdir(), 'promgate-gwconf-'));
    writeFileSync(
      join(dir, 'gateway.yaml'),
      [
        'tenants:',
        '  - {authentication: basic, username: alice, password: alice-password, id: team-a}',
        'frontend:',
        `  url: http://${NAME}:${port}`,
        '  dns_refresh_interval: 500ms',
      ].join('\n'),
    );
    gateway = await startGateway({ args: ['--config', join(dir, 'gateway.yaml'), '--dns-server', dns.server] });
  });
  after(async () => {
    await gateway?.stop();
    await Promise.all([a?.close(), b?.close(), dns?.stop()]);
  });

  const read = async (): Promise<{ status: number; from?: string }> => {
    const res = await fetch(`${gateway.base}/prometheus/api/v1/query?query=up`, { headers: basicAuth('alice', 'alice-password') });
    const body = (await res.json()) as { data?: string };
    return { status: res.status, ...(typeof body.data === 'string' && { from: body.data }) };
  };

  it('spreads requests over every address, the Host header still the name', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, read));
    assert.ok(answers.every((r) => r.status === 200));
    assert.ok(a.seen.length >= 10 && b.seen.length >= 10, `${a.seen.length} and ${b.seen.length}`);
    assert.equal(a.seen[0]!.host, `${NAME}:${port}`);
    assert.equal(b.seen[0]!['x-scope-orgid'], 'team-a');
  });

  it('loses no read when one address dies under load', async () => {
    const answers: { status: number; from?: string }[] = [];
    const load = (async () => {
      for (let round = 0; round < 20; round++) answers.push(...(await Promise.all(Array.from({ length: 10 }, read))));
    })();
    await new Promise((r) => setTimeout(r, 100));
    await b.close();
    await load;
    assert.equal(answers.length, 200);
    assert.deepEqual(answers.filter((r) => r.status !== 200), []);
    assert.equal(answers.at(-1)!.from, '127.0.0.2');
  });

  it('follows a changed DNS answer after the refresh interval', async () => {
    b = await startComponent('127.0.0.3', port);
    await dns.answer({ [NAME]: ['127.0.0.3'] });
    await new Promise((r) => setTimeout(r, 1500));
    const answers = await Promise.all(Array.from({ length: 10 }, read));
    assert.deepEqual(new Set(answers.map((r) => r.from)), new Set(['127.0.0.3']));
  });
});
