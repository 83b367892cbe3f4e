// The HTTP API, as the page uses it. Every error becomes an Error whose message is the server's detail.

function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).filter((p) => p !== "body").join(".")}: ${d.msg}`).join("; ");
  }
  return JSON.stringify(detail);
}

export async function api(path, { method = "GET", body, raw } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (raw !== undefined) init.body = raw; // bytes as they are (a sample for POST /fit)
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
  return data;
}

export const fileUrl = (jobId, path) => `/jobs/${encodeURIComponent(jobId)}/files/${path}`;
export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
