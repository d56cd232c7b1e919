// Small DOM helpers: element builder (text only, never innerHTML), formatting and badges.

/** h("div", {class: "x", "data-testid": "y", onclick: fn}, child, "text", [children]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "value") {
      el.value = value;
    } else if (key === "checked" || key === "disabled") {
      el[key] = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const STATE_TONE = {
  RUNNING: "ok",
  READY: "info", CREATED: "info", PENDING: "info", RESUME: "info",
  STOP: "warn", STOPPED: "muted", DELETING: "warn", DELETED: "muted",
  ERROR: "bad",
};

export function stateBadge(state, extra = {}) {
  const tone = STATE_TONE[state] || "muted";
  return h("span", { class: `badge badge-${tone}`, "data-testid": "run-state", "data-state": state || "", ...extra },
    state || "UNKNOWN");
}

/** Parse an ISO timestamp; a value without an offset is UTC (the store writes UTC). */
export function parseTs(value) {
  if (!value) return null;
  const hasZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(value);
  const date = new Date(hasZone ? value : `${value}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function age(value, now = Date.now()) {
  const date = parseTs(value);
  if (!date) return "";
  const s = Math.max(0, Math.round((now - date.getTime()) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d`;
}

export function clock(value) {
  const date = parseTs(value);
  return date ? date.toLocaleString() : "";
}

/** Copy text to the clipboard; falls back to a selected textarea where the API is missing. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { class: "offscreen" });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

export function copyButton(getText, label) {
  const button = h("button", { type: "button", class: "btn btn-small", "aria-label": label }, "Copy");
  button.addEventListener("click", async () => {
    const ok = await copyText(getText());
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  });
  return button;
}

/**
 * Call `fn` now and again `ms` after each call settles (never overlapping), skipping ticks while
 * the tab is hidden. Returns a function that stops the loop.
 */
export function every(ms, fn) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await fn(); } catch (err) { console.error(err); }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}
