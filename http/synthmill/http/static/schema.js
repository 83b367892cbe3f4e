// The rows form: a schema builder (name, type, constraints) whose JSON Schema is shown as it is built,
// normalised by the server's own parser (POST /schema), then a text job (POST /generate/text).
// "Start from a file" fills the builder with a schema fitted to a sample (POST /fit); what the builder
// has no inputs for (distributions, null shares, examples, the copula, the fit note) rides along.
import { api } from "./api.js";
import { alertBox, field, h } from "./dom.js";
import { submitJob } from "./jobs.js";

const TYPES = ["string", "int", "float", "bool", "date", "datetime", "enum", "email", "uuid"];
const CONSTRAINTS = {
  int: [["minimum", "min", "number"], ["maximum", "max", "number"]],
  float: [["minimum", "min", "number"], ["maximum", "max", "number"]],
  string: [["min_length", "min length", "number"], ["max_length", "max length", "number"], ["pattern", "pattern", "text"]],
  enum: [["choices", "choices (comma-separated)", "text"]],
};
const STARTER = [
  { name: "customer_name", type: "string", description: "the customer's full name" },
  { name: "age", type: "int", minimum: "18", maximum: "90" },
  { name: "order_value", type: "float", minimum: "0" },
];

const EDITED = new Set(["type", "description", "nullable", "unique", "minimum", "maximum", "min_length", "max_length", "pattern", "choices"]);
const FORMATS = { csv: "csv", jsonl: "jsonl", ndjson: "jsonl", json: "jsonl", parquet: "parquet", pq: "parquet" };

function fieldRow(initial, onChange, onRemove) {
  const kept = Object.fromEntries(Object.entries(initial).filter(([key]) => key !== "name" && !EDITED.has(key)));
  const name = h("input", { value: initial.name || "", placeholder: "field name", "aria-label": "field name", className: "f-name" });
  const type = h("select", { "aria-label": "field type", className: "f-type" }, TYPES.map((t) => h("option", { value: t, selected: t === initial.type }, t)));
  const constraints = h("div.constraints");
  const description = h("input", { value: initial.description || "", placeholder: "hint for the LLM", "aria-label": "description" });
  const nullable = h("input", { type: "checkbox", checked: !!initial.nullable });
  const unique = h("input", { type: "checkbox", checked: !!initial.unique });
  const row = h(
    "div.field",
    {},
    field("Name", name),
    field("Type", type),
    constraints,
    h("button.ghost.small", { type: "button", onclick: () => { row.remove(); onRemove(); }, title: "Remove field" }, "✕"),
    h("div.flags", {}, h("div", { style: "flex:1" }, description), h("label.check", {}, nullable, "nullable"), h("label.check", {}, unique, "unique")),
  );
  if (kept.distribution) {
    const law = typeof kept.distribution === "string" ? kept.distribution : `by ${kept.distribution.by}`;
    row.append(h("div.lead.sampled", { style: "grid-column:1/-1", title: JSON.stringify(kept.distribution) }, `sampled: ${law.length > 60 ? law.slice(0, 57) + "…" : law}`));
  }
  const drawConstraints = () => {
    const inputs = (CONSTRAINTS[type.value] || []).map(([key, text, kind]) => {
      const step = kind === "number" ? "any" : undefined; // decimals are valid bounds (a float field's 0.5)
      const input = h("input", { type: kind, step, value: initial[key] ?? "", dataset: { key }, "aria-label": text, oninput: onChange });
      const box = field(text, input);
      if (key === "choices" || key === "pattern") box.className = "span2";
      return box;
    });
    constraints.replaceChildren(...inputs);
  };
  type.addEventListener("change", () => { drawConstraints(); onChange(); });
  for (const input of [name, description, nullable, unique]) input.addEventListener("input", onChange);
  drawConstraints();
  row.value = () => {
    const spec = { type: type.value };
    for (const input of constraints.querySelectorAll("input")) {
      const raw = input.value.trim();
      if (raw === "") continue;
      const key = input.dataset.key;
      spec[key] = key === "choices" ? raw.split(",").map((s) => s.trim()).filter(Boolean) : input.type === "number" ? Number(raw) : raw;
    }
    if (description.value.trim()) spec.description = description.value.trim();
    if (nullable.checked) spec.nullable = true;
    if (unique.checked) spec.unique = true;
    return [name.value.trim(), { ...spec, ...kept }];
  };
  return row;
}

export function rowsView() {
  const fields = h("div.fields");
  const shown = h("pre.schema-out", { id: "json-schema" }, "{}");
  const schemaAlert = alertBox();
  const submitAlert = alertBox();
  let timer = null;
  let sequence = 0;

  let schemaLevel = {}; // a fitted schema's copula and fitted_from
  const schema = () => ({ ...Object.fromEntries([...fields.children].map((row) => row.value()).filter(([name]) => name)), ...schemaLevel });
  const redraw = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++sequence;
      try {
        const reply = await api("/schema", { method: "POST", body: { schema: schema() } });
        if (mine !== sequence) return;
        shown.textContent = JSON.stringify(reply.json_schema, null, 2);
        schemaAlert.hide();
      } catch (err) {
        if (mine === sequence) schemaAlert.show(err.message);
      }
    }, 150);
  };
  const add = (initial = { type: "string" }) => fields.append(fieldRow(initial, redraw, redraw));
  STARTER.forEach(add);
  redraw();

  const sample = h("input", { type: "file", id: "sample-file", accept: ".csv,.jsonl,.ndjson,.json,.parquet,.pq", hidden: true });
  sample.addEventListener("change", async () => {
    const file = sample.files[0];
    if (!file) return;
    const format = FORMATS[file.name.split(".").pop().toLowerCase()] || "csv";
    try {
      const reply = await api(`/fit?format=${format}`, { method: "POST", raw: await file.arrayBuffer() });
      const { copula, fitted_from, ...columns } = reply.schema;
      schemaLevel = Object.fromEntries(Object.entries({ copula, fitted_from }).filter(([, v]) => v));
      fields.replaceChildren();
      for (const [name, spec] of Object.entries(columns)) add({ name, ...spec });
      schemaAlert.hide();
      redraw();
    } catch (err) {
      schemaAlert.show(`${file.name}: ${err.message}`);
    }
    sample.value = "";
  });

  const count = h("input", { type: "number", min: 1, value: 20, id: "num-samples" });
  const format = h("select", { id: "output-format" }, ["json", "jsonl", "csv", "parquet"].map((f) => h("option", { value: f }, f)));
  const instructions = h("input", { placeholder: "e.g. orders from a German bicycle shop" });
  const seed = h("input", { type: "number", placeholder: "random" });
  const submit = h("button", { type: "submit", id: "generate-rows" }, "Generate rows");

  const form = h(
    "form.card",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const body = { schema: schema(), num_samples: Number(count.value), output_format: format.value, instructions: instructions.value };
        if (seed.value !== "") body.seed = Number(seed.value);
        await submitJob("/generate/text", body, submit, submitAlert);
      },
    },
    h("h1", {}, "Rows from a schema"),
    h("p.lead", {}, "Every row is written by the LLM under a grammar built from this schema, so it is valid by construction."),
    fields,
    h(
      "div.actions",
      {},
      h("button.ghost", { type: "button", id: "add-field", onclick: () => { add(); redraw(); } }, "+ Add field"),
      h("button.ghost", { type: "button", id: "start-from-file", onclick: () => sample.click(), title: "Fit a schema to a csv, jsonl or parquet sample" }, "Start from a file"),
      sample,
    ),
    schemaAlert,
    h("div.grid", { style: "margin-top:1rem" }, field("Rows", count), field("Format", format), field("Seed", seed), h("div.wide", {}, field("Instructions", instructions))),
    h("div.actions", {}, submit),
    submitAlert,
  );
  return [form, h("section.card", {}, h("h2", {}, "JSON Schema"), h("p.lead", {}, "What the text server compiles into its grammar."), shown)];
}
