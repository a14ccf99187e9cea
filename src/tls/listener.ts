import type { ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { SecureContextOptions, Server, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { WatchedFile } from '../reload/watched-file.js';
import { contextFiles, type TlsMaterial } from './files.js';
import type { ClientAuth } from './go-names.js';
import type { ServerTlsSettings } from './server-settings.js';
import { canonicalAltName, subjectAltNames } from './subject-alt-names.js';

/** What a listener needs to serve TLS: the server's options, and the hooks that guard handshakes and rotate certificates. */
export interface SecureListener {
  readonly serverOptions: ServerOptions;
  attach(server: Server): void;
}

/**
 * Node's handshake settings for Go's client-auth modes. Node verifies a certificate after the handshake and,
 * with rejectUnauthorized, closes the connection before any request is read; it cannot refuse only a certificate
 * that was given, nor demand one it does not verify, so `refusal` does that for the other modes, at the same point.
 */
const HANDSHAKE: Readonly<Record<ClientAuth, Pick<ServerOptions, 'requestCert' | 'rejectUnauthorized'>>> = {
  NoClientCert: { requestCert: false, rejectUnauthorized: false },
  RequestClientCert: { requestCert: true, rejectUnauthorized: false },
  RequireAnyClientCert: { requestCert: true, rejectUnauthorized: false },
  VerifyClientCertIfGiven: { requestCert: true, rejectUnauthorized: false },
  RequireAndVerifyClientCert: { requestCert: true, rejectUnauthorized: true },
};

// What Go's server answers plain HTTP sent to its TLS port, so that curl and browsers say what is wrong.
const PLAIN_HTTP_ANSWER = 'HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n';

/** The secure context of the settings with the material in use: what `setSecureContext` gets on each rotation. */
export function listenerContext(settings: ServerTlsSettings, material?: TlsMaterial): SecureContextOptions {
  return {
    minVersion: settings.minVersion,
    maxVersion: settings.maxVersion,
    honorCipherOrder: settings.honorCipherOrder,
    ...(settings.ciphers !== undefined && { ciphers: settings.ciphers }),
    ...(settings.curves !== undefined && { ecdhCurve: settings.curves }),
    ...(material !== undefined && contextFiles(material)),
  };
}

/**
 * A TLS listener whose certificate, key and client CAs follow their files: a new set applies to connections made
 * from then on (`setSecureContext`); connections already open keep theirs, so none is dropped.
 */
export function secureListener(settings: ServerTlsSettings, material: WatchedFile<TlsMaterial>, logger: Logger): SecureListener {
  const log = logger.child({ listener: 'tls' });
  return {
    serverOptions: { ...listenerContext(settings, material.current()), ...HANDSHAKE[settings.clientAuth] },
    attach(server) {
      // Before the HTTP server's own listener: a refused connection never gets to send a request. Only where Node
      // leaves something to check, so that other modes pay nothing per connection.
      const checked = settings.clientAuth === 'RequireAnyClientCert' || settings.clientAuth === 'VerifyClientCertIfGiven' || settings.clientAllowedSans !== undefined;
      if (checked) {
        server.prependListener('secureConnection', (socket: TLSSocket) => {
          const reason = refusal(socket, settings);
          if (reason === undefined) return;
          log.info({ remoteAddress: socket.remoteAddress, reason }, 'TLS connection refused');
          socket.destroy();
        });
      }
      server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
        log.debug({ remoteAddress: socket.remoteAddress, err: error.message }, 'TLS handshake failed');
        // The raw TCP socket under the failed TLS one (Node keeps it as _parent): still open for this one answer.
        const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
        if (error.code === 'ERR_SSL_HTTP_REQUEST' && raw !== undefined && raw.writable) raw.end(PLAIN_HTTP_ANSWER);
      });
      material.onChange((next) => {
        server.setSecureContext(listenerContext(settings, next));
        log.info('TLS listener: new certificate files in use for new connections');
      });
    },
  };
}

/** Why a handshake Node let through must not serve requests, or undefined when it may. */
function refusal(socket: TLSSocket, settings: ServerTlsSettings): string | undefined {
  const certificate = socket.getPeerCertificate();
  // Node gives an empty object when the client sent none.
  const sent = certificate !== null && Object.keys(certificate).length > 0;
  if (settings.clientAuth === 'RequireAnyClientCert' && !sent) return 'no client certificate';
  if (settings.clientAuth === 'VerifyClientCertIfGiven' && sent && !socket.authorized) {
    return `client certificate not verified: ${String(socket.authorizationError)}`;
  }
  if (settings.clientAllowedSans !== undefined) {
    const names = sent ? subjectAltNames(certificate.subjectaltname) : [];
    if (names === undefined) return 'client certificate subjectAltName unreadable';
    const allowed = new Set(settings.clientAllowedSans);
    if (!names.some((name) => allowed.has(canonicalAltName(name)))) return 'client certificate has none of the allowed SANs';
  }
  return undefined;
}
