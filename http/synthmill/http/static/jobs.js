// The jobs panel: the newest jobs, a page at a time ("More jobs" loads the next), each with a progress bar
// that moves live over Server-Sent Events, and cancel.
import { api, apiPage, eventStream, TERMINAL } from "./api.js";
import { h } from "./dom.js";

const PAGE = 50; // jobs per page, the HTTP service's default
const MAX_PAGE = 1000;
const MAX_STREAMS = 4; // browsers allow ~6 connections per host; keep some for the page itself
const streams = new Map(); // job id -> event stream
const listeners = new Set(); // callbacks (jobId, data) for the job page

export function onJobEvent(callback) {
  listeners.add(callback);
  return () => listeners.delete(callback);
}

function label(job) {
  const c = job.counts || {};
  const parts = [];
  if (c.rows_total) parts.push(`${c.rows_done || 0}/${c.rows_total} rows`);
  if (c.images_total) parts.push(`${c.images_done || 0}/${c.images_total} images`);
  return parts.join(" · ") || "waiting";
}

export function progressBar(status, percent) {
  const bar = h(`div.bar.${status}`, { role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100 });
  bar.append(h("span"));
  setBar(bar, status, percent);
  return bar;
}

export function setBar(bar, status, percent) {
  bar.className = `bar ${status}`;
  bar.setAttribute("aria-valuenow", String(Math.round(percent)));
  bar.firstChild.style.width = `${percent}%`;
}

function card(job) {
  const pct = h("span.job-meta.pct", {}, `${Math.floor(job.progress)}%`);
  const cancel = h("button.danger.small", { type: "button", onclick: () => cancelJob(job.job_id, cancel) }, "Cancel");
  if (TERMINAL.has(job.status)) cancel.classList.add("hidden");
  return h(
    "li.job",
    { dataset: { jobId: job.job_id, status: job.status } },
    h(
      "div.job-top",
      {},
      h("a.job-title", { href: `#/jobs/${job.job_id}` }, `${job.type} · ${job.job_id}`),
      h(`span.pill.${job.status}`, {}, job.status),
    ),
    progressBar(job.status, job.progress),
    h("div.job-top", {}, h("span.job-meta.counts", {}, label(job)), pct, cancel),
    job.error ? h("div.job-meta", {}, job.error) : null,
  );
}

async function cancelJob(jobId, button) {
  button.disabled = true;
  try {
    await api(`/jobs/${jobId}/cancel`, { method: "POST" });
  } catch (err) {
    button.disabled = false;
    button.title = err.message;
  }
}

function update(jobId, data) {
  const item = document.querySelector(`.job[data-job-id="${jobId}"]`);
  if (item) {
    const status = data.type === "state" ? data.state.state : item.dataset.status === "queued" ? "running" : item.dataset.status;
    item.dataset.status = status;
    setBar(item.querySelector(".bar"), status, data.progress);
    item.querySelector(".pill").className = `pill ${status}`;
    item.querySelector(".pill").textContent = status;
    item.querySelector(".pct").textContent = `${Math.floor(data.progress)}%`;
    item.querySelector(".counts").textContent = label({ counts: data.counts });
    if (TERMINAL.has(status)) item.querySelector("button.danger").classList.add("hidden");
  }
  for (const listener of listeners) listener(jobId, data);
}

export function follow(jobId) {
  if (streams.has(jobId) || streams.size >= MAX_STREAMS) return;
  const source = eventStream(`/jobs/${encodeURIComponent(jobId)}/events`, (kind, data) => {
    if (kind === "error") {
      stop(jobId); // the server said why
      return;
    }
    update(jobId, data);
    if (data.type === "state" && TERMINAL.has(data.state.state)) stop(jobId);
  });
  streams.set(jobId, source);
}

function stop(jobId) {
  streams.get(jobId)?.close();
  streams.delete(jobId);
  refreshJobs(); // a slot is free: follow the next running job
}

// Reloads the jobs shown (at least a page, as many as "More jobs" loaded), newest first.
export async function refreshJobs() {
  const list = document.getElementById("jobs");
  const shown = Math.min(MAX_PAGE, Math.max(PAGE, list.querySelectorAll(".job").length));
  let page;
  try {
    page = await apiPage(`/jobs?limit=${shown}`);
  } catch (err) {
    list.replaceChildren(h("li.empty", {}, `Jobs are unavailable: ${err.message}`));
    showMore(null);
    return;
  }
  if (!page.items.length) {
    list.replaceChildren(h("li.empty", {}, "No jobs yet. Build a schema or write a prompt, then Generate."));
    showMore(null);
    return;
  }
  list.replaceChildren(...page.items.map(card));
  showMore(page.next);
  for (const job of page.items.filter((j) => !TERMINAL.has(j.status)).reverse()) follow(job.job_id);
}

// The "More jobs" button under the list: loads the page at `next` (a URL), or hides when there is none.
function showMore(next) {
  const button = document.getElementById("more-jobs");
  button.classList.toggle("hidden", !next);
  button.disabled = false;
  button.onclick = async () => {
    button.disabled = true;
    try {
      const page = await apiPage(next.replace(/limit=\d+/, `limit=${PAGE}`));
      document.getElementById("jobs").append(...page.items.map(card));
      showMore(page.next);
    } catch (err) {
      button.disabled = false;
      button.title = err.message;
    }
  };
}

// Submits a job from a form: the button waits, the alert shows the new job's link or the server's detail.
export async function submitJob(path, body, button, alert) {
  button.disabled = true;
  try {
    const reply = await api(path, { method: "POST", body });
    alert.show(h("span", {}, `${reply.message}: `, h("a", { href: `#/jobs/${reply.job_id}` }, reply.job_id)), "ok");
    await refreshJobs();
  } catch (err) {
    alert.show(err.message);
  } finally {
    button.disabled = false;
  }
}
