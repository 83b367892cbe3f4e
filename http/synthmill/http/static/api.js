// The HTTP API, as the page uses it. Every error becomes an Error whose message is the server's detail.

function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ");
  }
  return JSON.stringify(detail);
}

export async function api(path, options = {}) {
  return (await apiReply(path, options)).data;
}

// A page of a listing: its items, and the URL of the next page (the `Link: <...>; rel="next"` header), or null.
export async function apiPage(path) {
  const { data, reply } = await apiReply(path);
  const link = reply.headers.get("link") || "";
  const next = /<([^>]*)>\s*;\s*rel="next"/.exec(link);
  return { items: data, next: next ? next[1] : null };
}

async function apiReply(path, { method = "GET", body } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let reply;
  try {
    reply = await fetch(path, init);
  } catch (err) {
    throw new Error(`cannot reach the synthmill HTTP service (${err.message})`);
  }
  const type = reply.headers.get("content-type") || "";
  const data = type.startsWith("application/json") ? await reply.json() : await reply.text();
  if (!reply.ok) {
    const detail = data && data.detail !== undefined ? detailText(data.detail) : reply.statusText;
    const err = new Error(`${reply.status}: ${detail}`);
    err.status = reply.status;
    err.data = data;
    throw err;
  }
  return { data, reply };
}

export const fileUrl = (jobId, path) => `/jobs/${encodeURIComponent(jobId)}/files/${path}`;
export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
