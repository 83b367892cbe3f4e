// The job page: live progress, cancel and download; a gallery of thumbnails with each image's metadata
// and its boxes and masks (annotations/instances.json, COCO) drawn over it; the rows as a table; a
// tables job's tables with their row counts and files (job.json).
import { api, blobUrl, fileUrl, TERMINAL } from "./api.js";
import { h } from "./dom.js";
import { follow, onJobEvent, progressBar, setBar } from "./jobs.js";

const EXTENSIONS = { ROW_FORMAT_JSON: "json", ROW_FORMAT_CSV: "csv", ROW_FORMAT_PARQUET: "parquet" };

function rowsSpec(job) {
  return job.spec.text || (job.spec.unified && job.spec.unified.rows) || null;
}

// Only a job that asked for boxes or masks writes annotations/instances.json: asking any other job for it
// is a 404 in the console.
function annotated(job) {
  const params = (job.spec.images || job.spec.unified || {}).params || {};
  return Boolean(job.spec.annotate || (params.annotations || []).length);
}

function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n") { row.push(cell.replace(/\r$/, "")); rows.push(row); row = []; cell = ""; }
    else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  const [header = [], ...body] = rows;
  return body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i]])));
}

async function loadRows(job) {
  const ext = EXTENSIONS[rowsSpec(job).format] || "jsonl";
  if (ext === "parquet") return null;
  const text = await api(fileUrl(job.job_id, `data.${ext}`));
  if (ext === "json") return typeof text === "string" ? JSON.parse(text) : text;
  if (ext === "csv") return parseCsv(text);
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

async function loadJsonl(jobId, path) {
  try {
    const text = await api(fileUrl(jobId, path));
    return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
  } catch (err) {
    if (err.status === 404) return [];
    throw err;
  }
}

// COCO's compressed RLE string (pycocotools' rleFrString): run lengths, each a LEB128-like group of
// 5-bit digits offset by 48, with a sign bit, and from the third on a difference to the run two back.
function rleCounts(text) {
  const counts = [];
  let p = 0;
  while (p < text.length) {
    let x = 0, k = 0, more = true;
    while (more) {
      const c = text.charCodeAt(p++) - 48;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      k++;
      if (!more && (c & 0x10)) x -= 2 ** (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

// A mask as a canvas over the image: runs alternate 0s and 1s, in column-major (Fortran) order.
function maskCanvas(segmentation) {
  const [height, width] = segmentation.size;
  const canvas = h("canvas.mask", { width, height });
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  let at = 0;
  rleCounts(segmentation.counts).forEach((run, i) => {
    if (i % 2) {
      for (let j = at; j < at + run; j++) {
        const o = ((j % height) * width + Math.floor(j / height)) * 4;
        image.data.set([37, 99, 235, 110], o);
      }
    }
    at += run;
  });
  context.putImageData(image, 0, 0);
  return canvas;
}

async function loadBoxes(jobId) {
  // COCO: images [{id, file_name, width, height}], annotations [{image_id, bbox, score, category_id,
  // segmentation (RLE, with masks)}].
  let coco;
  try {
    coco = await api(fileUrl(jobId, "annotations/instances.json"));
    if (typeof coco === "string") coco = JSON.parse(coco);
  } catch (err) {
    return new Map();
  }
  const names = new Map((coco.categories || []).map((c) => [c.id, c.name]));
  const images = new Map((coco.images || []).map((img) => [img.id, img]));
  const byFile = new Map();
  for (const ann of coco.annotations || []) {
    const img = images.get(ann.image_id);
    if (!img) continue;
    const list = byFile.get(img.file_name) || [];
    list.push({ bbox: ann.bbox, segmentation: ann.segmentation, label: names.get(ann.category_id) || ann.category_id, score: ann.score, width: img.width, height: img.height });
    byFile.set(img.file_name, list);
  }
  return byFile;
}

// An <img> of a job file, fetched with the API key.
function image(jobId, file, alt) {
  const img = h("img", { alt });
  blobUrl(fileUrl(jobId, file)).then((url) => { img.src = url; }, (err) => { img.title = err.message; });
  return img;
}

function framed(jobId, meta, boxes) {
  const frame = h("div.frame", {}, image(jobId, meta.file_name, meta.prompt || meta.file_name));
  for (const box of boxes || []) {
    if (box.segmentation && box.segmentation.counts) frame.append(maskCanvas(box.segmentation));
    const [x, y, w, bh] = box.bbox;
    const width = box.width || meta.width || 1;
    const height = box.height || meta.height || 1;
    const style = `left:${(100 * x) / width}%;top:${(100 * y) / height}%;width:${(100 * w) / width}%;height:${(100 * bh) / height}%`;
    const score = box.score !== undefined ? ` ${Math.round(box.score * 100)}%` : "";
    frame.append(h("div.box", { style }, h("span", {}, `${box.label}${score}`)));
  }
  return frame;
}

function showImage(jobId, meta, boxes) {
  const dialog = document.getElementById("lightbox");
  const facts = Object.entries(meta).filter(([key]) => key !== "file_name");
  dialog.querySelector(".lightbox-body").replaceChildren(
    framed(jobId, meta, boxes),
    h("dl", {}, h("dt", {}, "file"), h("dd.mono", {}, meta.file_name), facts.map(([key, value]) => [h("dt", {}, key), h("dd", {}, typeof value === "object" ? JSON.stringify(value) : String(value))])),
  );
  dialog.showModal();
}

function thumb(jobId, meta, boxes) {
  return h(
    "button.thumb",
    { type: "button", onclick: () => showImage(jobId, meta, boxes), title: meta.prompt || "" },
    framed(jobId, meta, boxes),
    h("div.caption", {}, meta.prompt ? h("div.prompt", {}, meta.prompt) : null, meta.seed !== undefined ? `seed ${meta.seed}` : meta.file_name, (boxes || []).length ? ` · ${boxes.length} boxes` : ""),
  );
}

function table(jobId, rows) {
  const columns = Object.keys(rows[0] || {});
  const cell = (name, value) => {
    if (name === "images" && Array.isArray(value)) return h("td", {}, value.map((file) => image(jobId, file, file)));
    return h("td", {}, value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));
  };
  return h("div.table-wrap", {}, h("table", { id: "rows-table" }, h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))), h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => cell(c, row[c])))))));
}

// Saves a file of the job as `name`: fetched with the key, handed to the browser as a blob.
async function saveAs(path, name) {
  const link = h("a", { href: await blobUrl(path), download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
}

function fileLink(jobId, file) {
  const link = h("a", { href: "#", onclick: (event) => { event.preventDefault(); saveAs(fileUrl(jobId, file), file).catch((err) => { link.title = err.message; }); } }, file);
  return link;
}

async function tablesList(jobId) {
  let info = await api(fileUrl(jobId, "job.json"));
  if (typeof info === "string") info = JSON.parse(info);
  const rows = (info.tables || []).map((t) => h("tr", {}, h("td", {}, t.table), h("td", {}, String(t.rows)), h("td", {}, t.file ? fileLink(jobId, t.file) : "not written")));
  const extra = ["schema.sql", "stats.html"].map((file) => fileLink(jobId, file));
  return [h("div.table-wrap", {}, h("table", { id: "tables-table" }, h("thead", {}, h("tr", {}, ["table", "rows", "file"].map((c) => h("th", {}, c)))), h("tbody", {}, rows))), h("p.facts", {}, extra.flatMap((a) => [a, " "]))];
}

async function fill(job, gallery, rowsCard, tablesCard) {
  const jobId = job.job_id;
  if (job.spec.tables) tablesCard.append(...(await tablesList(jobId)));
  if (job.counts.images_total) {
    const [meta, boxes] = await Promise.all([loadJsonl(jobId, "metadata.jsonl"), annotated(job) ? loadBoxes(jobId) : new Map()]);
    gallery.replaceChildren(...(meta.length ? meta.map((m) => thumb(jobId, m, boxes.get(m.file_name))) : [h("p.empty", {}, "No images were made.")]));
  }
  if (rowsSpec(job)) {
    const rows = await loadRows(job);
    rowsCard.append(rows === null ? h("p.empty", {}, "Parquet rows: download the dataset to read them.") : rows.length ? table(jobId, rows) : h("p.empty", {}, "No rows were made."));
  }
}

export function jobView(jobId, setCleanup) {
  const root = h("section.card", {}, h("p.empty", {}, "Loading job…"));
  (async () => {
    let job;
    try {
      job = await api(`/jobs/${encodeURIComponent(jobId)}`);
    } catch (err) {
      root.replaceChildren(h("h1", {}, "Job not found"), h("div.alert.error", {}, err.message), h("p", {}, h("a", { href: "#/rows" }, "← Back")));
      return;
    }
    const pill = h(`span.pill.${job.status}`, { id: "job-status" }, job.status);
    const bar = progressBar(job.status, job.progress);
    const pct = h("b", { id: "job-progress" }, `${Math.floor(job.progress)}%`);
    const cancel = h("button.danger", { type: "button", onclick: () => api(`/jobs/${jobId}/cancel`, { method: "POST" }).catch(() => {}) }, "Cancel");
    const save = () => saveAs(`/jobs/${encodeURIComponent(jobId)}/download`, `${jobId}.zip`);
    const download = h("button.ghost", { type: "button", id: "download", onclick: () => save().catch((err) => { download.title = err.message; }) }, "Download .zip");
    const gallery = h("div.gallery", { id: "gallery" });
    const imagesCard = h("section.card", {}, h("h2", {}, "Images"), gallery);
    const rowsCard = h("section.card", {}, h("h2", {}, "Rows"));
    const tablesCard = h("section.card", {}, h("h2", {}, "Tables"));
    if (TERMINAL.has(job.status)) cancel.classList.add("hidden");
    if (!job.counts.images_total) imagesCard.classList.add("hidden");
    if (!rowsSpec({ spec: job.spec })) rowsCard.classList.add("hidden");
    if (!job.spec.tables) tablesCard.classList.add("hidden");
    const facts = [["type", job.type], ["seed", job.seed], ["created", new Date(job.created_at).toLocaleString()], ["output", job.output_path]];
    root.replaceChildren(
      h("div.job-head", {}, h("div", {}, h("h1", {}, `Job ${jobId}`), h("div.facts", {}, facts.map(([k, v]) => h("span", {}, `${k} `, h("b", {}, String(v)))))), h("div.actions", {}, pill, cancel, download)),
      bar,
      h("div.facts", {}, h("span", {}, "progress ", pct)),
    );
    if (job.error) root.append(h("div.alert.error", {}, job.error));
    root.after(imagesCard, rowsCard, tablesCard);
    gallery.append(h("p.empty", {}, TERMINAL.has(job.status) ? "Loading images…" : "Images appear here as they are made."));

    const done = async (status) => {
      pill.className = `pill ${status}`;
      pill.textContent = status;
      cancel.classList.add("hidden");
      try {
        await fill({ ...job, status }, gallery, rowsCard, tablesCard);
      } catch (err) {
        imagesCard.append(h("div.alert.error", {}, err.message));
      }
    };
    if (TERMINAL.has(job.status)) {
      await done(job.status);
      return;
    }
    let live = 0;
    setCleanup(
      onJobEvent(async (id, data) => {
        if (id !== jobId) return;
        const status = data.type === "state" ? data.state.state : "running";
        setBar(bar, status, data.progress);
        pct.textContent = `${Math.floor(data.progress)}%`;
        if (data.type === "image") {
          if (!live++) gallery.replaceChildren();
          gallery.append(thumb(jobId, { file_name: data.image.file_name }, []));
        }
        if (data.type === "state" && TERMINAL.has(status)) await done(status);
      }),
    );
    follow(jobId);
  })();
  return [root];
}
