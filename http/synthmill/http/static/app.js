// The page: a hash router over the rows form, the images form and a job's page, beside the jobs panel.
import { apiKey } from "./api.js";
import { imagesView } from "./images.js";
import { jobView } from "./job.js";
import { refreshJobs } from "./jobs.js";
import { rowsView } from "./schema.js";

let cleanup = () => {};

function route() {
  cleanup();
  cleanup = () => {};
  const hash = location.hash || "#/rows";
  const view = document.getElementById("view");
  const job = hash.match(/^#\/jobs\/([^/]+)$/);
  let tab = "rows";
  if (job) {
    tab = "";
    view.replaceChildren(...jobView(decodeURIComponent(job[1]), (fn) => { cleanup = fn; }));
  } else if (hash === "#/images") {
    tab = "images";
    view.replaceChildren(...imagesView());
  } else {
    view.replaceChildren(...rowsView());
  }
  for (const link of document.querySelectorAll("nav a[data-tab]")) link.classList.toggle("active", link.dataset.tab === tab);
}

async function health() {
  const badge = document.getElementById("health");
  try {
    const reply = await fetch("/health");
    const data = await reply.json();
    badge.className = `health ${data.status}`;
    badge.textContent = data.status === "healthy" ? `healthy · ${data.jobs_in_progress} in progress` : `degraded: ${data.detail || `${data.text_model} / ${data.image_model}`}`;
  } catch (err) {
    badge.className = "health degraded";
    badge.textContent = "unreachable";
  }
}

const keyBox = document.getElementById("api-key");
keyBox.value = apiKey.get();
keyBox.addEventListener("change", () => {
  apiKey.set(keyBox.value.trim());
  route();
  refreshJobs();
});

window.addEventListener("hashchange", route);
document.getElementById("refresh-jobs").addEventListener("click", () => { refreshJobs(); health(); });
route();
refreshJobs();
health();
