// AWS's SigV4 test suite (docs.aws.amazon.com, "Signature Version 4 test suite": no package ships it, so its
// requests and published Authorization headers are written here as a table). Each vector is signed twice: by
// promgate's signing (its request mapping and @smithy/signature-v4 with promgate's settings), and by the check of
// AMP's stand-in (botocore), so that the stand-in the end-to-end tests trust is itself held to AWS's figures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { signable, signingOptions } from '../../src/aws/sigv4.js';
import { verifierSignatures } from '../support/aws.js';

const ACCESS_KEY = 'AKIDEXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const DATE = '20150830T123600Z';
const SCOPE = `Credential=${ACCESS_KEY}/20150830/us-east-1/service/aws4_request`;
const HOST = 'example.amazonaws.com';
const TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';
const UNRESERVED = '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

interface Vector {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  /** The request line's target, as the suite writes it. */
  readonly target: string;
  /**
   * The target as it travels, where the suite's is no valid request line (raw UTF-8 in a query): what a service
   * receives, and so what AMP's stand-in is given. Its canonical request, and signature, are the suite's.
   */
  readonly wire?: string;
  /** Headers beside Host and X-Amz-Date, repeated ones in the order sent. */
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: string;
  readonly token?: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

const VECTORS: readonly Vector[] = [
  { name: 'get-vanilla', method: 'GET', target: '/', signedHeaders: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'get-vanilla-empty-query-key', method: 'GET', target: '/?Param1=value1', signedHeaders: 'host;x-amz-date', signature: 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb' },
  { name: 'get-vanilla-query-order-key', method: 'GET', target: '/?Param1=value2&Param1=Value1', signedHeaders: 'host;x-amz-date', signature: 'eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1' },
  { name: 'get-vanilla-query-order-key-case', method: 'GET', target: '/?Param2=value2&Param1=value1', signedHeaders: 'host;x-amz-date', signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500' },
  { name: 'get-vanilla-query-order-value', method: 'GET', target: '/?Param1=value2&Param1=value1', signedHeaders: 'host;x-amz-date', signature: '5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694' },
  { name: 'get-vanilla-query-unreserved', method: 'GET', target: `/?${UNRESERVED}=${UNRESERVED}`, signedHeaders: 'host;x-amz-date', signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197' },
  { name: 'get-vanilla-utf8-query', method: 'GET', target: '/?\u1234=bar', wire: '/?%E1%88%B4=bar', signedHeaders: 'host;x-amz-date', signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04' },
  { name: 'get-unreserved', method: 'GET', target: `/${UNRESERVED}`, signedHeaders: 'host;x-amz-date', signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f' },
  { name: 'get-utf8', method: 'GET', target: '/\u1234', signedHeaders: 'host;x-amz-date', signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85' },
  { name: 'normalize-path/get-space', method: 'GET', target: '/example space/', signedHeaders: 'host;x-amz-date', signature: '652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741' },
  { name: 'normalize-path/get-slashes', method: 'GET', target: '//example//', signedHeaders: 'host;x-amz-date', signature: '9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84' },
  { name: 'normalize-path/get-slash', method: 'GET', target: '//', signedHeaders: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'normalize-path/get-slash-dot-slash', method: 'GET', target: '/./', signedHeaders: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'normalize-path/get-slash-pointless-dot', method: 'GET', target: '/./example', signedHeaders: 'host;x-amz-date', signature: 'ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5' },
  { name: 'normalize-path/get-relative', method: 'GET', target: '/example/..', signedHeaders: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'normalize-path/get-relative-relative', method: 'GET', target: '/example1/example2/../..', signedHeaders: 'host;x-amz-date', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  {
    name: 'get-header-key-duplicate', method: 'GET', target: '/',
    headers: [['My-Header1', 'value2'], ['My-Header1', 'value2'], ['My-Header1', 'value1']],
    signedHeaders: 'host;my-header1;x-amz-date', signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea',
  },
  {
    name: 'get-header-value-order', method: 'GET', target: '/',
    headers: [['My-Header1', 'value4'], ['My-Header1', 'value1'], ['My-Header1', 'value3'], ['My-Header1', 'value2']],
    signedHeaders: 'host;my-header1;x-amz-date', signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01',
  },
  {
    name: 'get-header-value-trim', method: 'GET', target: '/',
    headers: [['My-Header1', ' value1'], ['My-Header2', ' "a   b   c"']],
    signedHeaders: 'host;my-header1;my-header2;x-amz-date', signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736',
  },
  { name: 'post-vanilla', method: 'POST', target: '/', signedHeaders: 'host;x-amz-date', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
  { name: 'post-vanilla-query', method: 'POST', target: '/?Param1=value1', signedHeaders: 'host;x-amz-date', signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11' },
  {
    name: 'post-header-key-sort', method: 'POST', target: '/', headers: [['My-Header1', 'value1']],
    signedHeaders: 'host;my-header1;x-amz-date', signature: 'c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c',
  },
  {
    name: 'post-header-value-case', method: 'POST', target: '/', headers: [['My-Header1', 'VALUE1']],
    signedHeaders: 'host;my-header1;x-amz-date', signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d',
  },
  {
    name: 'post-sts-token/post-sts-header-before', method: 'POST', target: '/', token: TOKEN,
    signedHeaders: 'host;x-amz-date;x-amz-security-token', signature: '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
  },
  {
    name: 'post-x-www-form-urlencoded', method: 'POST', target: '/', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'Param1=value1',
    signedHeaders: 'content-type;host;x-amz-date', signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
  },
];

const published = (v: Vector): string => `AWS4-HMAC-SHA256 ${SCOPE}, SignedHeaders=${v.signedHeaders}, Signature=${v.signature}`;

/** The vector as promgate's signer sees a final request: one value per header, a repeated one's joined by commas. */
async function promgateAuthorization(v: Vector): Promise<string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of v.headers ?? []) headers[name] = name in headers ? `${headers[name]},${value}` : value;
  const credentials = () => Promise.resolve({ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY, ...(v.token !== undefined && { sessionToken: v.token }) });
  // The suite's requests carry no x-amz-content-sha256, which promgate adds: the one setting turned off here.
  const signer = new SignatureV4({ ...signingOptions({ region: 'us-east-1', service: 'service' }, credentials), applyChecksum: false });
  const { signable: request } = signable({ method: v.method, path: v.target, headers, body: v.body ?? null }, HOST, v.body);
  const signed = await signer.sign(request, { signingDate: new Date('2015-08-30T12:36:00Z') });
  return signed.headers.authorization!;
}

describe("AWS's SigV4 test suite", () => {
  it('every vector signs to its published Authorization header through promgate’s signing', async () => {
    for (const v of VECTORS) {
      assert.equal(await promgateAuthorization(v), published(v), v.name);
      if (v.wire !== undefined) assert.equal(await promgateAuthorization({ ...v, target: v.wire }), published(v), `${v.name} (as sent)`);
    }
  });

  it('and through the check of AMP’s stand-in (botocore), which the end-to-end tests rely on', () => {
    const computed = verifierSignatures(
      VECTORS.map((v) => ({
        name: v.name, method: v.method, target: v.wire ?? v.target,
        headers: [['Host', HOST], ['X-Amz-Date', DATE], ...(v.token === undefined ? [] : [['X-Amz-Security-Token', v.token]]), ...(v.headers ?? [])],
        body: v.body ?? '', token: v.token ?? null, accessKey: ACCESS_KEY, secretKey: SECRET_KEY, date: DATE, region: 'us-east-1', service: 'service',
      })),
    );
    assert.deepEqual(computed.map((c) => [c.name, c.authorization]), VECTORS.map((v) => [v.name, published(v)]));
  });
});
