// A component's sigv4 block in promgate's gateway file: Prometheus's names, read strictly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeGateway } from '../describe.js';
import { parseGatewayConfig } from '../load.js';

const file = (component: string) =>
  ['tenants:', '  - {username: u, password: p, id: team-a}', 'components:', `  amp: ${component}`, 'routes:', '  - {path: /amp, match: prefix, component: amp, enforcement: header}', ''].join('\n');

const parsed = (component: string) => parseGatewayConfig(file(component), 'gw.yaml');
const sigv4Of = (component: string) => {
  const config = parsed(component);
  if (!config.ok) assert.fail(config.error);
  return config.value.components.get('amp')!.sigv4;
};
const refusal = (component: string): string => {
  const config = parsed(component);
  assert.equal(config.ok, false);
  return (config as { error: string }).error;
};

describe("a component's sigv4 block", () => {
  const url = '"https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1"';

  it('takes Prometheus’s names: region, access_key, secret_key, profile, role_arn, and service', () => {
    assert.deepEqual(
      sigv4Of(`{url: ${url}, sigv4: {region: eu-west-1, access_key: AKIA1, secret_key: s3cr3t, role_arn: "arn:aws:iam::1:role/r", service: aps}}`),
      { region: 'eu-west-1', service: 'aps', accessKey: 'AKIA1', secretKey: 's3cr3t', roleArn: 'arn:aws:iam::1:role/r' },
    );
    assert.deepEqual(sigv4Of(`{url: ${url}, sigv4: {profile: team}}`), { service: 'aps', profile: 'team' });
  });

  it('an empty block signs with the default chain, for aps, in the environment’s region', () => {
    assert.deepEqual(sigv4Of(`{url: ${url}, sigv4: {}}`), { service: 'aps' });
    assert.equal(sigv4Of(`{url: ${url}}`), undefined);
  });

  it('is shown by check config without its secret key', () => {
    const config = parsed(`{url: ${url}, sigv4: {region: eu-west-1, access_key: AKIA1, secret_key: s3cr3t, role_arn: "arn:aws:iam::1:role/r"}}`);
    if (!config.ok) assert.fail(config.error);
    const text = describeGateway(config.value);
    assert.match(text, /signed with AWS SigV4:\n  COMPONENT  SIGNED FOR, WITH\n  amp        aps in eu-west-1: role arn:aws:iam::1:role\/r, assumed with static keys \(access_key AKIA1\)\n/);
    assert.doesNotMatch(text, /s3cr3t/);
  });

  it('refuses half a key pair, unknown keys, empty values, and credentials in the URL beside it', () => {
    assert.match(refusal(`{url: ${url}, sigv4: {access_key: AKIA1}}`), /gw\.yaml:4: components\.amp\.sigv4: access_key and secret_key go together/);
    assert.match(refusal(`{url: ${url}, sigv4: {secret_key: s}}`), /access_key and secret_key go together/);
    assert.match(refusal(`{url: ${url}, sigv4: {secret_key_file: /x}}`), /sigv4\.secret_key_file: unknown key/);
    assert.match(refusal(`{url: ${url}, sigv4: {region: ""}}`), /sigv4\.region: must not be empty/);
    assert.match(refusal(`{url: "https://user:pw@amp.example/ws", sigv4: {}}`), /cannot sign requests whose URL carries credentials/);
    assert.match(refusal(`{url: ${url}, sigv4: [aps]}`), /sigv4: must be a mapping/);
  });
});
