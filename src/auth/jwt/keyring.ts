import type { KeySource, VerificationKey } from './keys.js';

/** All key sources seen as one set, whose identity changes whenever any source's keys change. */
export class KeyRing {
  private seen: (readonly VerificationKey[])[] = [];
  private all: readonly VerificationKey[] = [];

  constructor(private readonly sources: readonly KeySource[]) {}

  /** The current keys; the same array until some source changes, so callers can tell verifications apart by it. */
  snapshot(): readonly VerificationKey[] {
    let changed = this.seen.length !== this.sources.length;
    this.sources.forEach((source, i) => {
      const keys = source.keys();
      if (keys !== this.seen[i]) {
        this.seen[i] = keys;
        changed = true;
      }
    });
    if (changed) this.all = this.seen.flat();
    return this.all;
  }

  get refreshable(): boolean {
    return this.sources.some((s) => s.refreshForUnknownKid !== undefined);
  }

  async refreshForUnknownKid(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.refreshForUnknownKid?.()));
  }

  async close(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.close()));
  }
}
