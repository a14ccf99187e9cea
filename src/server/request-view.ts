import type { IncomingMessage } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { RequestView } from '../auth/types.js';

/** What authentication sees of a Node request: its headers, its TLS peer and its remote address. */
export class NodeRequestView implements RequestView {
  constructor(private readonly incoming: IncomingMessage) {}

  header(name: string): string | undefined {
    const value = this.incoming.headers[name];
    return typeof value === 'string' ? value : undefined;
  }

  /** Read only when an authenticator asks: most never do. */
  get peerCertificate(): PeerCertificate | undefined {
    const socket = this.incoming.socket as Partial<TLSSocket>;
    if (socket.encrypted !== true || socket.getPeerCertificate === undefined) return undefined;
    const certificate = socket.getPeerCertificate();
    // Node gives an empty object when the client sent none.
    return certificate !== null && Object.keys(certificate).length > 0 ? certificate : undefined;
  }

  get peerCertificateVerified(): boolean {
    return (this.incoming.socket as Partial<TLSSocket>).authorized === true;
  }

  get remoteAddress(): string | undefined {
    return this.incoming.socket.remoteAddress;
  }
}
