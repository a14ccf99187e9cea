#!/usr/bin/python3
"""A stand-in for Amazon Managed Service for Prometheus (AMP), which cannot run here.

It checks every request's AWS Signature Version 4 as AWS does, recomputing the signature with botocore (Debian's
python3-botocore: an implementation of its own, not the library promgate signs with), then forwards the request to a
real Prometheus below AMP's /workspaces/<id> prefix (any id). A request that fails the check gets 403 with AWS's error shape
(a JSON message and x-amzn-ErrorType), as AMP answers it; nothing unsigned reaches Prometheus.

The credentials it accepts are read from --keys on every request (a JSON object: access key id -> secret, session
token, expiry in Unix seconds), so that a test can accept the credentials its stand-ins hand out as it goes. Each
verdict is appended to --log as a JSON line.

--vectors FILE instead prints the Authorization header this code computes for each request of FILE (the AWS
SigV4 test suite's, in the tests): the check itself is tested against AWS's published signatures.
"""

import argparse
import calendar
import hashlib
import hmac
import http.client
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTHORIZATION = re.compile(
    r'^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,\s*'
    r'SignedHeaders=([a-z0-9;\-]+),\s*Signature=([0-9a-f]{64})$'
)
# What the signature must cover: AWS refuses a request whose signature leaves out host or x-amz-date, and AMP one
# whose body hash is not signed.
REQUIRED_SIGNED = ('host', 'x-amz-date', 'x-amz-content-sha256')
MAX_SKEW_SECONDS = 15 * 60
HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length'}
SIGNATURE_MISMATCH = (
    'The request signature we calculated does not match the signature you provided. '
    'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.'
)


class Refused(Exception):
    def __init__(self, error_type, message, status=403):
        super().__init__(message)
        self.error_type = error_type
        self.status = status


def signature(method, url, headers, body, signed_names, amz_date, key_id, secret, token, region, service):
    """The signature and the signed-header list botocore computes for a request as it was received."""
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        if name.lower() in signed_names:
            request.headers[name] = value  # appended: a repeated header's values are joined, in order
    request.context['timestamp'] = amz_date
    signer = SigV4Auth(Credentials(key_id, secret, token), service, region)
    canonical = signer.canonical_request(request)
    signed = signer.signed_headers(signer.headers_to_sign(request))
    return signer.signature(signer.string_to_sign(request, canonical), request), signed, canonical


def check(method, target, headers, body, keys, region, service):
    """The access key id of a correctly signed request; raises Refused with AWS's error otherwise."""
    lower = {}
    for name, value in headers:
        lower.setdefault(name.lower(), []).append(value)
    auth = lower.get('authorization')
    if not auth:
        raise Refused('MissingAuthenticationTokenException', 'Missing Authentication Token')
    m = AUTHORIZATION.match(auth[0])
    if m is None:
        raise Refused('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature')
    key_id, date, scope_region, scope_service, signed_list, given = m.groups()
    key = keys.get(key_id)
    if key is None:
        raise Refused('UnrecognizedClientException', 'The security token included in the request is invalid.')
    if key.get('expires') is not None and key['expires'] <= time.time():
        raise Refused('ExpiredTokenException', 'The security token included in the request is expired')
    if scope_region != region or scope_service != service:
        raise Refused('InvalidSignatureException', f'Credential should be scoped to a valid region and service ({region}, {service})')
    amz_date = (lower.get('x-amz-date') or [''])[0]
    if not amz_date.startswith(date):
        raise Refused('InvalidSignatureException', 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP')
    sent = calendar.timegm(time.strptime(amz_date, '%Y%m%dT%H%M%SZ'))
    if abs(time.time() - sent) > MAX_SKEW_SECONDS:
        raise Refused('InvalidSignatureException', 'Signature expired: the request time is too far from the current time')
    signed_names = signed_list.split(';')
    required = REQUIRED_SIGNED + (('x-amz-security-token',) if key.get('token') else ())
    for name in required:
        if name not in signed_names:
            raise Refused('InvalidSignatureException', f'{name} must be a signed header')
    for name in signed_names:
        if name not in lower:
            raise Refused('InvalidSignatureException', f'signed header {name} is not in the request')
    token = (lower.get('x-amz-security-token') or [None])[0]
    if (key.get('token') or None) != token:
        raise Refused('UnrecognizedClientException', 'The security token included in the request is invalid.')
    if lower['x-amz-content-sha256'][0] != hashlib.sha256(body).hexdigest():
        raise Refused('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.', 400)
    host = lower['host'][0]
    computed, signed, canonical = signature(method, f'http://{host}{target}', headers, body, set(signed_names), amz_date, key_id, key['secret'], token, region, service)
    if signed != signed_list or not hmac.compare_digest(computed, given):
        raise Refused('InvalidSignatureException', SIGNATURE_MISMATCH + '\n\nThe Canonical String for this request should have been\n' + canonical)
    return key_id


def read_body(handler):
    if handler.headers.get('Transfer-Encoding', '').lower() == 'chunked':
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b';')[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b'\r\n', b'\n', b''):
                    pass
                return b''.join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get('Content-Length') or 0))


def serve(args):
    upstream = urllib.parse.urlsplit(args.upstream)
    log_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *_):
            pass

        def record(self, verdict):
            with log_lock, open(args.log, 'a') as log:
                log.write(json.dumps(verdict) + '\n')

        def answer(self, status, headers, body):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self):
            body = read_body(self)
            headers = list(self.headers.items())
            with open(args.keys) as f:
                keys = json.load(f)
            try:
                key_id = check(self.command, self.path, headers, body, keys, args.region, args.service)
            except Refused as refused:
                self.record({'method': self.command, 'path': self.path, 'ok': False, 'type': refused.error_type, 'reason': str(refused)})
                message = json.dumps({'message': str(refused).split('\n\n')[0]}).encode()
                self.answer(refused.status, [('Content-Type', 'application/json'), ('x-amzn-ErrorType', f'{refused.error_type}:')], message)
                return
            self.record({'method': self.command, 'path': self.path, 'ok': True, 'key': key_id})
            workspace = re.match(r'^/workspaces/[^/?]+(?=/)', self.path)
            if workspace is None:
                self.answer(404, [('Content-Type', 'application/json')], b'{"message":"Not Found"}')
                return
            path = self.path[workspace.end():]
            forwarded = {n: v for n, v in headers if n.lower() not in HOP_BY_HOP and n.lower() not in ('host', 'authorization') and not n.lower().startswith('x-amz-')}
            connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            try:
                connection.request(self.command, path, body=body if body or self.command in ('POST', 'PUT') else None, headers=forwarded)
                reply = connection.getresponse()
                content = reply.read()
                self.answer(reply.status, [(n, v) for n, v in reply.getheaders() if n.lower() not in HOP_BY_HOP], content)
            finally:
                connection.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    server = ThreadingHTTPServer(('127.0.0.1', args.port), Handler)
    server.daemon_threads = True
    print(f'listening on 127.0.0.1:{server.server_address[1]}', flush=True)
    server.serve_forever()


def vectors(path):
    """Each vector's Authorization header, computed by the same check the server makes (without the clock)."""
    out = []
    with open(path) as f:
        cases = json.load(f)
    for case in cases:
        headers = [tuple(h) for h in case['headers']]
        names = sorted({n.lower() for n, _ in headers})
        key = {'secret': case['secretKey'], 'token': case.get('token')}
        computed, signed, _ = signature(
            case['method'], f"http://{dict((n.lower(), v) for n, v in headers)['host']}{case['target']}", headers, case['body'].encode(), set(names),
            case['date'], case['accessKey'], key['secret'], key['token'], case['region'], case['service'],
        )
        out.append({'name': case['name'], 'authorization': f"AWS4-HMAC-SHA256 Credential={case['accessKey']}/{case['date'][:8]}/{case['region']}/{case['service']}/aws4_request, SignedHeaders={signed}, Signature={computed}"})
    print(json.dumps(out))


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--vectors')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--upstream')
    parser.add_argument('--keys')
    parser.add_argument('--log')
    parser.add_argument('--region', default='us-east-1')
    parser.add_argument('--service', default='aps')
    parsed = parser.parse_args()
    if parsed.vectors:
        vectors(parsed.vectors)
    else:
        serve(parsed)
    sys.exit(0)
