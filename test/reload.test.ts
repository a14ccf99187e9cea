// The users file rewritten again and again while requests keep coming: none fails, and the new users get in.
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { basicAuth, startGateway, type Gateway } from './support/gateway.js';
import { startRecordingUpstream, type RecordingUpstream } from './support/recording-upstream.js';

const ALICE = '  - username: alice\n    password: alice-pw\n    namespace: tenant-a\n';
const usersWith = (n: number) => `users:\n${ALICE}  - username: user${n}\n    password: pw-${n}\n    namespaces: [ns-${n}]\n`;

describe('reload under load', () => {
  let upstream: RecordingUpstream;
  let gateway: Gateway;

  before(async () => {
    upstream = await startRecordingUpstream();
    gateway = await startGateway({ upstream: upstream.url, authConfig: usersWith(0) });
  });
  after(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  const status = async (user: string, password: string) =>
    (await fetch(`${gateway.base}/api/v1/query?query=up`, { headers: basicAuth(user, password) })).status;

  it('serves every request while the users file changes 30 times, then admits the new user', async () => {
    let writing = true;
    const failures: string[] = [];
    let served = 0;
    const workers = Array.from({ length: 4 }, async () => {
      while (writing) {
        const code = await status('alice', 'alice-pw').catch((e: Error) => e.message);
        if (code === 200) served++;
        else failures.push(String(code));
      }
    });
    for (let n = 1; n <= 30; n++) {
      // Half the rewrites in place (as an editor does), half by rename (as Kubernetes and config tools do).
      if (n % 2 === 0) {
        writeFileSync(`${gateway.authFile}.new`, usersWith(n));
        renameSync(`${gateway.authFile}.new`, gateway.authFile);
      } else {
        writeFileSync(gateway.authFile, usersWith(n));
      }
      await new Promise((r) => setTimeout(r, 60));
    }
    let admitted = false;
    for (let i = 0; i < 100 && !admitted; i++) {
      admitted = (await status('user30', 'pw-30')) === 200;
      if (!admitted) await new Promise((r) => setTimeout(r, 50));
    }
    writing = false;
    await Promise.all(workers);
    assert.deepEqual(failures, []);
    assert.ok(served > 100, `only ${served} requests served`);
    assert.ok(admitted, 'the last user written was never admitted');
    assert.equal(await status('user1', 'pw-1'), 401);
  });

  it('keeps the last good users when the file turns bad, and says so in its metrics', async () => {
    writeFileSync(gateway.authFile, 'users: [ {username: alice, password: \n');
    process.kill(gateway.child.pid!, 'SIGHUP');
    let metrics = '';
    for (let i = 0; i < 100 && !/promgate_config_last_reload_successful(\{[^}]*\})? 0/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 50));
      metrics = await (await fetch(`${gateway.internal}/metrics`)).text();
    }
    assert.match(metrics, /promgate_config_last_reload_successful(\{[^}]*\})? 0/);
    assert.equal(await status('alice', 'alice-pw'), 200);
    assert.equal(await status('user30', 'pw-30'), 200);
  });
});
