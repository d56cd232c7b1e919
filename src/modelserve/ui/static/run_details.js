// Run page cards that describe a run: status, OpenAI details, and copyable curl/python snippets.

import { copyButton, clock, fill, h, stateBadge } from "./dom.js";
import { engineCell } from "./runs.js";
import { isChatRun, isEmbeddingRun } from "./chat_model.js";

const dash = (value) => (value === undefined || value === null || value === "" ? "—" : value);

function rows(pairs) {
  return pairs.map(([label, value, testid]) => [
    h("dt", {}, label),
    h("dd", testid ? { "data-testid": testid } : {}, dash(value)),
  ]);
}

export function statusCard() {
  const list = h("dl", { class: "kv" });
  const el = h("section", { class: "card", "aria-label": "Status", "data-testid": "run-status" },
    h("div", { class: "card-head" }, h("h2", {}, "Status")), list);
  function update(run) {
    const status = run.status || {};
    const replicas = status.replicas || {};
    fill(list, rows([
      ["State", stateBadge(status.state)],
      ["Message", status.message, "run-message"],
      ["Desired", run.desired],
      ["Replicas", `${replicas.ready ?? 0} ready of ${replicas.desired ?? 0}`, "run-replicas"],
      ["Function", `${run.project} / ${run.function} v${run.function_version}`],
      ["Kind", run.kind],
      ["Run id", h("span", { class: "mono" }, run.id)],
      ["Created", clock(run.created_at)],
      ["Updated", clock(run.updated_at)],
    ]));
  }
  return { el, update };
}

/** Advertised base URL with a scheme (the seed platform may omit it). */
export function displayBaseUrl(baseUrl) {
  if (!baseUrl) return "";
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(baseUrl) ? baseUrl.replace(/\/+$/, "") : `http://${baseUrl.replace(/\/+$/, "")}`;
}

function withCopy(text, label, testid) {
  if (!text) return "—";
  return h("span", { class: "copyable" }, h("code", { "data-testid": testid }, text), copyButton(() => text, label));
}

export function openaiCard() {
  const list = h("dl", { class: "kv" });
  const el = h("section", { class: "card", "aria-label": "OpenAI endpoint", "data-testid": "run-openai" },
    h("div", { class: "card-head" }, h("h2", {}, "OpenAI endpoint")), list);
  function update(run) {
    const status = run.status || {};
    const openai = status.openai || {};
    const features = (openai.features || []).map((f) => h("span", { class: "chip" }, f));
    const adapters = (openai.adapters || []).map((a) =>
      h("div", {}, h("span", {}, a.name), " → ", h("code", {}, a.model || `${openai.model}_${a.name}`)));
    fill(list, rows([
      ["Base URL", withCopy(displayBaseUrl(openai.baseUrl), "Copy base URL", "openai-base-url")],
      ["Model", withCopy(openai.model, "Copy model name", "openai-model")],
      ["Model URL", openai.modelUrl ? h("code", {}, openai.modelUrl) : null],
      ["Features", features.length ? h("div", { class: "chips", "data-testid": "openai-features" }, features) : null],
      ["Engine", status.engine || openai.engine ? engineCell(status) : null],
      ["Adapters", adapters.length ? adapters : null, "openai-adapters"],
    ]));
  }
  return { el, update };
}

const PY_HEAD = (base) =>
  `from openai import OpenAI\n\nBASE_URL = "${base}"\nclient = OpenAI(base_url=BASE_URL, api_key="unused")\n`;

/** curl and python snippets for the run's main OpenAI route. */
export function snippets(run) {
  const openai = (run.status || {}).openai || {};
  const base = displayBaseUrl(openai.baseUrl) || "http://SERVER/openai/v1";
  const model = openai.model || "MODEL";
  const features = openai.features || [];
  if (isEmbeddingRun(features)) {
    const body = JSON.stringify({ model, input: "The quick brown fox" });
    return {
      curl: `curl ${base}/embeddings \\\n  -H "Content-Type: application/json" \\\n  -d '${body}'`,
      python: `${PY_HEAD(base)}out = client.embeddings.create(model="${model}", input="The quick brown fox")\nprint(len(out.data[0].embedding))`,
    };
  }
  if (isChatRun(features) || !features.length) {
    const body = JSON.stringify({ model, messages: [{ role: "user", content: "Hello!" }] });
    return {
      curl: `curl ${base}/chat/completions \\\n  -H "Content-Type: application/json" \\\n  -d '${body}'`,
      python: `${PY_HEAD(base)}stream = client.chat.completions.create(\n    model="${model}",\n    messages=[{"role": "user", "content": "Hello!"}],\n    stream=True,\n)\nfor chunk in stream:\n    if chunk.choices:\n        print(chunk.choices[0].delta.content or "", end="", flush=True)`,
    };
  }
  return {
    curl: `curl ${base}/models`,
    python: `${PY_HEAD(base)}print([m.id for m in client.models.list()])`,
  };
}

export function snippetsCard() {
  const curl = h("pre", { class: "code", "data-testid": "snippet-curl" });
  const python = h("pre", { class: "code", "data-testid": "snippet-python" });
  const el = h("section", { class: "card", "aria-label": "Use it from code", "data-testid": "run-snippets" },
    h("div", { class: "card-head" }, h("h2", {}, "Use it")),
    h("div", { class: "snippet-head" }, h("h3", {}, "curl"), copyButton(() => curl.textContent, "Copy curl command")), curl,
    h("div", { class: "snippet-head" }, h("h3", {}, "Python (openai)"), copyButton(() => python.textContent, "Copy python snippet")), python);
  function update(run) {
    const s = snippets(run);
    if (curl.textContent !== s.curl) curl.textContent = s.curl;
    if (python.textContent !== s.python) python.textContent = s.python;
  }
  return { el, update };
}
