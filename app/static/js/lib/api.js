// The one way the dashboard talks to the server: JSON over fetch to /api, with the
// session cookie and, on writes, the session's CSRF token in X-CSRF-Token.

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** An error answered by the API, in its contract {"error": {code, message, fields?}}. */
export class ApiError extends Error {
  constructor(status, code, message, fields = null, requestId = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.requestId = requestId;
  }

  /** The message to show a person, with the request id support asks for on a 500. */
  get display() {
    return this.requestId ? `${this.message} (Request id: ${this.requestId})` : this.message;
  }
}

let csrfToken = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') || '';
let unauthorizedHandler = null;

/** Keep the token login and signup hand back (it belongs to the new session). */
export function setCsrfToken(token) {
  if (token) csrfToken = token;
}

/** Called when an API call answers 401: the session has ended. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

async function request(method, path, body, { expectUnauthorized = false } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (WRITE_METHODS.has(method)) headers['X-CSRF-Token'] = csrfToken;

  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(
      0,
      'network_error',
      'Could not reach NemoRDP. Check your connection; we will keep trying.',
    );
  }
  if (response.status === 204) return null;
  const isJson = (response.headers.get('Content-Type') || '').includes('application/json');
  const data = isJson ? await response.json().catch(() => null) : null;
  if (response.ok) return data;

  const error = data && data.error ? data.error : {};
  const apiError = new ApiError(
    response.status,
    error.code || 'error',
    error.message || `The server answered ${response.status}; try again shortly.`,
    error.fields || null,
    error.request_id || null,
  );
  if (response.status === 401 && !expectUnauthorized && unauthorizedHandler) {
    unauthorizedHandler(apiError);
  }
  throw apiError;
}

export const api = {
  get: (path, options) => request('GET', path, undefined, options),
  post: (path, body, options) => request('POST', path, body, options),
  put: (path, body, options) => request('PUT', path, body, options),
  patch: (path, body, options) => request('PATCH', path, body, options),
  delete: (path, options) => request('DELETE', path, undefined, options),
};

/** The first message for each field of a 422/409 answer: {email: 'Taken.'}. */
export function fieldMessages(error) {
  const messages = {};
  if (!(error instanceof ApiError) || !error.fields) return messages;
  for (const [name, value] of Object.entries(error.fields)) {
    const first = Array.isArray(value) ? value[0] : value;
    messages[name] = typeof first === 'string' ? first : 'This value is not valid.';
  }
  return messages;
}
