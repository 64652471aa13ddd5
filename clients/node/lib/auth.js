// Bearer tokens: `authorization: Bearer <token>` on every call, as the services expect (servicekit/auth.py).
//
// On a TLS channel the token travels as call credentials composed with the channel credentials, so grpc-js
// adds it to every call of the channel (the health stub included). grpc-js refuses call credentials on a
// plaintext channel, so there a client interceptor adds the same header to each call's metadata instead.
'use strict';

const grpc = require('@grpc/grpc-js');

const AUTHORIZATION_HEADER = 'authorization';
// A token is one HTTP/2 header value: printable ASCII, no spaces (the issued ones are URL-safe base64).
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/** The token checked for use in a header; throws a TypeError that names the rule (never the token). */
function checkToken(token) {
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
    const what = typeof token === 'string' ? `${token.length} characters` : typeof token;
    throw new TypeError(`token: must be a non-empty string of printable ASCII without spaces, got ${what}`);
  }
  return token;
}

/** The header value of a token: `Bearer <token>`. */
function bearerValue(token) {
  return `Bearer ${checkToken(token)}`;
}

/** Call credentials that add the bearer header to every call (for TLS channels). */
function bearerCallCredentials(token) {
  const value = bearerValue(token);
  return grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata();
    metadata.set(AUTHORIZATION_HEADER, value);
    callback(null, metadata);
  });
}

/** A grpc-js client interceptor that adds the bearer header to every call's metadata (for plaintext). */
function bearerInterceptor(token) {
  const value = bearerValue(token);
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set(AUTHORIZATION_HEADER, value);
        next(metadata, listener);
      },
    });
}

/**
 * How a channel carries `token`: `credentials` (the channel credentials, composed with the token's call
 * credentials when they are secure) and `interceptors` (the bearer interceptor on plaintext). No token:
 * the credentials as given and no interceptor.
 */
function withToken(credentials, token) {
  if (token === undefined || token === null) return {credentials, interceptors: []};
  if (credentials._isSecure()) {
    return {credentials: credentials.compose(bearerCallCredentials(token)), interceptors: []};
  }
  return {credentials, interceptors: [bearerInterceptor(token)]};
}

module.exports = {AUTHORIZATION_HEADER, bearerCallCredentials, bearerInterceptor, bearerValue, checkToken, withToken};
