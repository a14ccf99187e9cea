/** The JWT flags of `promgate run`. */
export interface JwtOptions {
  secret?: string;
  publicKeyFile?: string;
  issuer?: string;
  audience?: string;
  requireExp: boolean;
  leewaySeconds: number;
  namespacesClaim: string;
  labelsClaim: string;
  tenantClaim: string;
  /**
   * The `user` label of the request metrics for a token: its tenant id ('jwt' without one), a bounded set; or
   * its subject, which an identity provider can mint without bound, so only where the subjects are few.
   */
  metricsUser: 'tenant' | 'subject';
}

/** What JWT authentication is made from. */
export interface JwtAuthOptions {
  readonly jwt: JwtOptions;
  /** A JWKS file or http(s) URL; '' when only a secret or a public key is given. */
  readonly authConfig: string;
  readonly reloadIntervalMinutes: number;
  readonly namespaceLabel: string;
}
