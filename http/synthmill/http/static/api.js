// The HTTP API, as the page uses it. Every error becomes an Error whose message is the server's detail.
// The API key typed in the top bar is kept in this tab's sessionStorage (gone when the tab closes) and
// sent as `Authorization: Bearer <key>` on every call: no cookie, so no other site's page can act with it.
// Images, downloads and the live events are fetched with it too (an <img src> or EventSource cannot
// carry the header).

const KEY = "synthmill-api-key";

export const apiKey = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (value) => (value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY)),
};

function authorization() {
  const key = apiKey.get();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function send(path, init = {}) {
  try {
    return await fetch(path, { ...init, headers: { ...authorization(), ...(init.headers || {}) } });
  } catch (err) {
    throw new Error(`cannot reach the synthmill HTTP service (${err.message})`);
  }
}

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

async function apiReply(path, { method = "GET", body, raw } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (raw !== undefined) init.body = raw; // bytes as they are (a sample for POST /fit)
  const reply = await send(path, init);
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

// A job file as an object URL, for an <img> or a download link.
export async function blobUrl(path) {
  const reply = await send(path);
  if (!reply.ok) throw new Error(`${reply.status}: ${path}`);
  return URL.createObjectURL(await reply.blob());
}

// Server-Sent Events read through fetch, so the key goes along. `onEvent(kind, data)` gets each event;
// a stream that breaks reconnects with Last-Event-ID; `close()` stops it.
export function eventStream(path, onEvent) {
  const control = new AbortController();
  let last = null;
  const run = async () => {
    while (!control.signal.aborted) {
      const headers = last === null ? {} : { "Last-Event-ID": last };
      let reply;
      try {
        reply = await send(path, { headers, signal: control.signal });
      } catch (err) {
        if (control.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (!reply.ok) {
        onEvent("error", { detail: `${reply.status}` });
        return;
      }
      const reader = reply.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return; // the server ends the stream after the job's last state
          buffer += value.replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let kind = "message", data = "";
            for (const line of block.split("\n")) {
              const [field, ...rest] = line.split(":");
              const text = rest.join(":").replace(/^ /, "");
              if (field === "event") kind = text;
              else if (field === "data") data += text;
              else if (field === "id") last = text;
            }
            if (data) onEvent(kind, JSON.parse(data));
          }
        }
      } catch (err) {
        if (control.signal.aborted) return;
      }
    }
  };
  run();
  return { close: () => control.abort() };
}

export const fileUrl = (jobId, path) => `/jobs/${encodeURIComponent(jobId)}/files/${path}`;
export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
