// Tiny DOM helpers: h("div.card", {onclick}, child, ...) builds elements; no framework, no build step.

export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && key !== "list") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function field(label, input) {
  return h("div", {}, h("label", {}, label), input);
}

export function alertBox() {
  const box = h("div.alert.hidden", { role: "alert" });
  box.show = (text, kind = "error") => {
    box.className = `alert ${kind}`;
    box.replaceChildren(text);
  };
  box.hide = () => box.classList.add("hidden");
  return box;
}
