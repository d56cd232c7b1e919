// "Try it" box for embedding runs: one /embeddings call, showing the vector's size and first values.

import { api, browserBaseUrl } from "./api.js";
import { h } from "./dom.js";

export function createEmbedBox() {
  const target = { url: "", model: "", available: false };
  const input = h("input", { type: "text", class: "grow", value: "The quick brown fox", "aria-label": "Text to embed", "data-testid": "embed-input" });
  const button = h("button", { type: "submit", class: "btn btn-primary", "data-testid": "embed-send" }, "Embed");
  const result = h("div", { class: "embed-result", "data-testid": "embed-result", role: "status" });
  const notice = h("p", { class: "chat-notice" });
  const form = h("form", { class: "row" }, input, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!target.available) return;
    button.disabled = true;
    result.className = "embed-result";
    result.textContent = "…";
    try {
      const out = await api(target.url, { method: "POST", body: { model: target.model, input: input.value } });
      const vector = ((out.data || [])[0] || {}).embedding || [];
      const head = vector.slice(0, 8).map((x) => Number(x).toFixed(4)).join(", ");
      result.replaceChildren(
        h("div", {}, h("strong", { "data-testid": "embed-dim" }, `${vector.length}`), " dimensions"),
        h("code", { class: "vector" }, `[${head}${vector.length > 8 ? ", …" : ""}]`));
    } catch (err) {
      result.className = "embed-result error";
      result.textContent = `Error: ${err.message}`;
    } finally {
      button.disabled = !target.available;
    }
  });
  const el = h("section", { class: "card", "aria-label": "Try embeddings", "data-testid": "embed" },
    h("div", { class: "card-head" }, h("h2", {}, "Try it: embeddings")), notice, form, result);

  function update(run) {
    const status = run.status || {};
    const openai = status.openai || {};
    target.model = openai.model || "";
    target.url = openai.baseUrl ? `${browserBaseUrl(openai.baseUrl)}/embeddings` : "";
    target.available = status.state === "RUNNING" && Boolean(target.model && target.url);
    button.disabled = !target.available;
    notice.textContent = target.available ? "" : `Available while the run is RUNNING (now ${status.state || "unknown"}).`;
    notice.hidden = target.available;
  }
  return { el, update };
}
