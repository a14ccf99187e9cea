// The SigV4 signer on promgate's final requests: what it sends (the query spelt as signed, the exact body, a
// streamed body read whole), which headers it signs, and a failure to get credentials.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { sigV4Signer } from './sigv4.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const DATE = new Date('2026-01-01T00:00:00Z');
const KEYS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
const ORIGIN = 'https://aps-workspaces.eu-west-1.amazonaws.com';
const sign = sigV4Signer({ region: 'eu-west-1', service: 'aps' }, () => Promise.resolve(KEYS), () => DATE);
const headers = { accept: 'application/json', 'user-agent': 'Grafana/11.0.0', 'x-request-id': 'r1' };

describe('sigV4Signer', () => {
  it('signs a GET: the query spelt as SigV4 encodes it, the host, the date and the empty body’s hash', async () => {
    const path = '/workspaces/ws-1/api/v1/query?query=sum%20by%20(pod)%20(rate(x%7Bcode!%3D%22200%22%7D%5B5m%5D))*2&time=1767225600';
    const signed = await sign({ method: 'GET', path, headers, body: null }, ORIGIN);
    assert.equal(signed.path, '/workspaces/ws-1/api/v1/query?query=sum%20by%20%28pod%29%20%28rate%28x%7Bcode%21%3D%22200%22%7D%5B5m%5D%29%29%2A2&time=1767225600');
    assert.equal(new URLSearchParams(signed.path.split('?')[1]).get('query'), 'sum by (pod) (rate(x{code!="200"}[5m]))*2', 'the same parameter');
    assert.equal(signed.headers.host, 'aps-workspaces.eu-west-1.amazonaws.com');
    assert.equal(signed.headers['x-amz-date'], '20260101T000000Z');
    assert.equal(signed.headers['x-amz-content-sha256'], sha256(''));
    assert.match(
      signed.headers.authorization!,
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/20260101\/eu-west-1\/aps\/aws4_request, SignedHeaders=accept;host;x-amz-content-sha256;x-amz-date;x-request-id, Signature=[0-9a-f]{64}$/,
    );
    assert.equal(signed.headers['user-agent'], 'Grafana/11.0.0', 'sent, not signed (SigV4 never signs User-Agent)');
    assert.equal(signed.body, null);
  });

  it('hashes a form body exactly as sent', async () => {
    const body = 'query=up%7Bnamespace%3D%22a%22%7D&start=1&end=2&step=15';
    const signed = await sign({ method: 'POST', path: '/api/v1/query_range', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body }, ORIGIN);
    assert.equal(signed.body, body);
    assert.equal(signed.path, '/api/v1/query_range');
    assert.equal(signed.headers['x-amz-content-sha256'], sha256(body));
    assert.match(signed.headers.authorization!, /SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-request-id,/);
  });

  it('reads a streamed body whole, sends those bytes and signs their hash', async () => {
    const chunks = [Buffer.from([0xff, 0x00, 0x10]), Buffer.from('snappy-compressed protobuf')];
    const signed = await sign({ method: 'POST', path: '/api/v1/remote_write', headers: { 'content-encoding': 'snappy' }, body: Readable.from(chunks) }, ORIGIN);
    assert.deepEqual(signed.body, Buffer.concat(chunks));
    assert.equal(signed.headers['x-amz-content-sha256'], sha256(Buffer.concat(chunks)));
  });

  it('signs the session token of temporary credentials, and the Host header sent (an address’s pool keeps the name)', async () => {
    const temporary = sigV4Signer({ region: 'us-east-1', service: 'aps' }, () => Promise.resolve({ ...KEYS, sessionToken: 'token/+=' }), () => DATE);
    const signed = await temporary({ method: 'GET', path: '/api/v1/labels', headers: { host: 'amp.internal:8443' }, body: null }, 'http://10.0.0.7:8443');
    assert.equal(signed.headers['x-amz-security-token'], 'token/+=');
    assert.equal(signed.headers.host, 'amp.internal:8443');
    assert.match(signed.headers.authorization!, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
  });

  it('signs one request differently from another that differs anywhere', async () => {
    const base = { method: 'GET' as const, path: '/api/v1/query?query=up', headers, body: null };
    const signature = async (request: typeof base) => /Signature=(\w+)/.exec((await sign(request, ORIGIN)).headers.authorization!)![1];
    const first = await signature(base);
    assert.notEqual(await signature({ ...base, path: '/api/v1/query?query=down' }), first);
    assert.notEqual(await signature({ ...base, path: '/x/api/v1/query?query=up' }), first);
    assert.notEqual(await signature({ ...base, headers: { ...headers, accept: '*/*' } }), first);
  });

  it('fails when there are no credentials to sign with', async () => {
    const none = sigV4Signer({ region: 'us-east-1', service: 'aps' }, () => Promise.reject(new Error('no valid AWS credentials: ECS said 500')));
    await assert.rejects(none({ method: 'GET', path: '/api/v1/labels', headers: {}, body: null }, ORIGIN), /ECS said 500/);
  });
});
