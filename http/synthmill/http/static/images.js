// The images form: prompts (with {axis} placeholders), negative prompt, size, steps, seed, sampler,
// variation axes, best-of and labels; sent to POST /generate/images.
import { api } from "./api.js";
import { alertBox, field, h } from "./dom.js";
import { submitJob } from "./jobs.js";

function axisRow() {
  const name = h("input", { placeholder: "axis, e.g. lighting", "aria-label": "axis name" });
  const values = h("input", { placeholder: "values, e.g. day, night, fog", "aria-label": "axis values" });
  const row = h("div.axis", {}, name, values, h("button.ghost.small", { type: "button", onclick: () => row.remove() }, "✕"));
  row.value = () => [name.value.trim(), values.value.split(",").map((v) => v.trim()).filter(Boolean)];
  return row;
}

export function imagesView() {
  const prompts = h("textarea", { id: "prompts", placeholder: "One prompt per line, e.g.\nSimple 2D architectural floorplan, {lighting}" });
  const negative = h("input", { id: "negative", placeholder: "colors, textures, shading" });
  const width = h("input", { type: "number", id: "width", value: 512, step: 8, min: 8 });
  const height = h("input", { type: "number", id: "height", value: 512, step: 8, min: 8 });
  const steps = h("input", { type: "number", id: "steps", value: 20, min: 1 });
  const count = h("input", { type: "number", id: "num-images", value: 4, min: 0 });
  const seed = h("input", { type: "number", id: "seed", placeholder: "random" });
  const cfg = h("input", { type: "number", id: "cfg", step: 0.5, placeholder: "server default" });
  const sampler = h("select", { id: "sampler" }, h("option", { value: "" }, "model default"));
  const model = h("select", { id: "model" }, h("option", { value: "" }, "server default"));
  const bestOf = h("input", { type: "number", id: "best-of", min: 1, placeholder: "off" });
  const boxes = h("input", { type: "checkbox", id: "bbox" });
  const masks = h("input", { type: "checkbox", id: "mask" });
  const labels = h("input", { id: "labels", placeholder: "wall, door, window (open-vocabulary)" });
  const axes = h("div", { id: "axes" });
  const submit = h("button", { type: "submit", id: "generate-images" }, "Generate images");
  const message = alertBox();

  api("/sdapi/v1/samplers").then((items) => sampler.append(...items.map((s) => h("option", { value: s.name }, s.name)))).catch(() => {});
  api("/sdapi/v1/sd-models").then((items) => model.append(...items.map((m) => h("option", { value: m.model_name }, m.title)))).catch(() => {});

  const form = h(
    "form.card",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        const body = {
          prompts: prompts.value.split("\n").map((p) => p.trim()).filter(Boolean),
          num_images: Number(count.value || 0),
          resolution: [Number(width.value), Number(height.value)],
          steps: Number(steps.value || 0),
          negative_prompt: negative.value,
          sampler: sampler.value,
          model: model.value,
          axes: Object.fromEntries([...axes.children].map((row) => row.value()).filter(([name]) => name)),
        };
        if (seed.value !== "") body.seed = Number(seed.value);
        if (cfg.value !== "") body.cfg_scale = Number(cfg.value);
        if (bestOf.value !== "") body.best_of = Number(bestOf.value);
        const kinds = [boxes.checked && "bbox", masks.checked && "mask"].filter(Boolean);
        if (kinds.length) body.annotations = kinds;
        const classes = labels.value.split(",").map((l) => l.trim()).filter(Boolean);
        if (classes.length) body.labels = classes;
        await submitJob("/generate/images", body, submit, message);
      },
    },
    h("h1", {}, "Images from prompts"),
    h("p.lead", {}, "Write {name} in a prompt and give its values below: every combination appears equally often."),
    field("Prompts", prompts),
    h("div.grid", { style: "margin-top:.75rem" },
      h("div.wide", {}, field("Negative prompt", negative)),
      field("Width", width), field("Height", height), field("Steps", steps), field("Images (0: one per prompt)", count),
      field("Seed", seed), field("CFG scale", cfg), field("Sampler", sampler), field("Model", model)),
    h("h3", { style: "margin-top:1rem" }, "Variation axes"),
    axes,
    h("button.ghost.small", { type: "button", id: "add-axis", onclick: () => axes.append(axisRow()) }, "+ Add axis"),
    h("h3", { style: "margin-top:1rem" }, "Judge and label"),
    h("div.grid", {}, field("Best of N", bestOf), h("div", {}, h("label", {}, "Boxes"), h("label.check", {}, boxes, "COCO boxes (bbox)")), h("div", {}, h("label", {}, "Masks"), h("label.check", {}, masks, "SAM masks in the boxes (mask)")), h("div.wide", {}, field("Labels", labels))),
    h("div.actions", {}, submit),
    message,
  );
  return [form];
}
