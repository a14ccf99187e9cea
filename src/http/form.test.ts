import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeForm, type Param } from './form.js';

describe('decodeForm', () => {
  const decode = (text: string) => {
    const out: Param[] = [];
    const result = decodeForm(text, out);
    return result.ok ? out : result.error;
  };
  it('decodes like Go: & separates, + is a space, %XX escapes, empty pieces skipped', () => {
    assert.deepEqual(decode('a=1&b=x+y&c=%7Bq%3D%22v%22%7D&&d&e='), [['a', '1'], ['b', 'x y'], ['c', '{q="v"}'], ['d', ''], ['e', '']]);
    assert.deepEqual(decode('match%5B%5D=up&match[]=a=b'), [['match[]', 'up'], ['match[]', 'a=b']]);
    assert.deepEqual(decode(''), []);
  });
  it('refuses bad escapes and semicolons instead of guessing', () => {
    for (const text of ['q=%zz', 'q=%', 'q=%e2%82', 'a=1;b=2', '%=1']) assert.equal(typeof decode(text), 'string', text);
  });
});
