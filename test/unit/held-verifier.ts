import { compare } from 'bcryptjs';
import { PasswordVerifier } from '../../src/auth/password.js';

/** A verifier whose bcrypt runs finish only when the test says so (one at a time, one more may wait). */
export function heldVerifier(): { verifier: PasswordVerifier; finishAll(): Promise<void> } {
  const held: Array<() => void> = [];
  const verifier = new PasswordVerifier({
    bcrypt: {
      concurrency: 1,
      maxWaiting: 1,
      compare: async (password, hash) => {
        await new Promise<void>((resolve) => held.push(resolve));
        return compare(password, hash);
      },
    },
  });
  // Each finished run hands its turn to the next, whose hold is pushed a few promise turns later.
  const finishAll = async () => {
    for (let idle = 0; idle < 3; idle++) {
      while (held.length > 0) held.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { verifier, finishAll };
}
