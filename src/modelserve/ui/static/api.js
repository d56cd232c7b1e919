// Control-plane and gateway calls (same origin). Errors carry the OpenAI envelope's message.

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** The message of an OpenAI error envelope, or a readable fallback. */
export function errorMessage(body, status) {
  const err = body && typeof body === "object" ? body.error : null;
  if (err && typeof err === "object" && err.message) return String(err.message);
  if (typeof err === "string") return err;
  if (body && typeof body === "object" && typeof body.detail === "string") return body.detail;
  return `HTTP ${status}`;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return text; }
}

/** fetch JSON from the API; throws ApiError with the envelope message on a non-2xx answer. */
export async function api(path, { method = "GET", body, signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(`cannot reach the server (${err.message})`, 0, null);
  }
  const parsed = await readBody(response);
  if (!response.ok) throw new ApiError(errorMessage(parsed, response.status), response.status, parsed);
  return parsed;
}

export async function apiText(path, { signal } = {}) {
  const response = await fetch(path, { signal });
  if (!response.ok) throw new ApiError(errorMessage(await readBody(response), response.status), response.status, null);
  return response.text();
}

export const listRuns = () => api("/api/v1/runs");
export const getRun = (id) => api(`/api/v1/runs/${encodeURIComponent(id)}`);
export const runEvents = (id) => api(`/api/v1/runs/${encodeURIComponent(id)}/events`);
export const runLogs = (id, replica, tail = 300) =>
  apiText(`/api/v1/runs/${encodeURIComponent(id)}/logs?replica=${replica}&tail=${tail}`);

/** action: "stop" | "resume" | "delete" */
export function runAction(id, action) {
  const path = `/api/v1/runs/${encodeURIComponent(id)}`;
  if (action === "delete") return api(path, { method: "DELETE" });
  return api(`${path}/${action}`, { method: "POST" });
}

// Which actions the control plane accepts in each state (mirrors control/states.py).
const ALLOWED = {
  stop: ["CREATED", "READY", "PENDING", "RUNNING", "RESUME"],
  resume: ["STOPPED", "ERROR"],
  delete: ["CREATED", "READY", "PENDING", "RUNNING", "STOP", "STOPPED", "RESUME", "ERROR"],
};

export const actionAllowed = (action, state) => ALLOWED[action].includes(state);

/**
 * The URL the browser should call for an OpenAI base URL from run status.
 * The console is served by the same server as the gateway, so when the advertised base URL
 * names another origin (a public URL behind a proxy, or no scheme at all) its path is used on
 * this origin; that keeps the request same-origin and free of CORS.
 */
export function browserBaseUrl(baseUrl) {
  if (!baseUrl) return "";
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(baseUrl) || baseUrl.startsWith("/") ? baseUrl : `http://${baseUrl}`;
  const url = new URL(withScheme, window.location.href);
  const path = url.pathname.replace(/\/+$/, "");
  return url.origin === window.location.origin ? `${url.origin}${path}` : `${window.location.origin}${path}`;
}
