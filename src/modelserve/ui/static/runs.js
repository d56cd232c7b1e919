// Runs list view (/console): polls /api/v1/runs every 2 s and updates rows in place.

import { listRuns } from "./api.js";
import { createActions } from "./actions.js";
import { age, clock, every, fill, h, stateBadge } from "./dom.js";

const COLUMNS = ["Project", "Function", "Kind", "State", "Model", "Replicas", "Engine", "Age", ""];

export const runHref = (id) => `/console/runs/${encodeURIComponent(id)}`;

/** The engine cell: the engine used, tagged when it is a fallback for the one asked for. */
export function engineCell(status) {
  const engine = status.engine || {};
  const used = engine.used || (status.openai || {}).engine || "";
  if (!used) return "—";
  const tag = engine.fallback
    ? h("span", { class: "tag tag-warn", "data-testid": "engine-fallback", title: `asked for ${engine.requested || "another engine"}` }, "fallback")
    : null;
  return [h("span", { "data-testid": "run-engine" }, used), tag ? " " : null, tag];
}

/** "→ stop" while the run has been asked for something it has not reached yet. */
function desiredHint(run) {
  const goal = { stop: "STOPPED", delete: "DELETED", resume: "RUNNING" }[run.desired];
  const state = (run.status || {}).state;
  return goal && state !== goal ? h("span", { class: "hint" }, ` → ${run.desired}`) : null;
}

function createRow(run, onChange) {
  const cells = COLUMNS.map(() => h("td"));
  const errorTr = h("tr", { class: "error-row", hidden: true });
  const actions = createActions(run, onChange, (shown) => { errorTr.hidden = !shown; });
  errorTr.append(h("td", { colspan: COLUMNS.length }, actions.error));
  cells[COLUMNS.length - 1].append(actions.buttons);
  const tr = h("tr", { "data-testid": "run-row", "data-run-id": run.id }, cells);
  return { tr, errorTr, cells, actions };
}

function updateRow(row, run) {
  const [project, fn, kind, state, model, reps, engine, ageCell] = row.cells;
  fill(ageCell, age(run.created_at));
  ageCell.title = clock(run.created_at);
  row.actions.update(run);
  // Rebuild the other cells only when the run changed, so a poll never swaps a link under the pointer.
  const signature = JSON.stringify([run.status, run.desired, run.function, run.function_version]);
  if (row.signature === signature) return;
  row.signature = signature;
  const status = run.status || {};
  const openai = status.openai || {};
  const replicas = status.replicas || {};
  fill(project, run.project);
  fill(fn, h("a", { href: runHref(run.id), "data-testid": "run-link" }, run.function),
    h("span", { class: "muted" }, ` v${run.function_version}`),
    h("div", { class: "mono muted small", title: run.id }, run.id.slice(0, 12)));
  fill(kind, h("span", { class: "kind" }, run.kind));
  fill(state, stateBadge(status.state), desiredHint(run));
  state.title = status.message || "";
  fill(model, openai.model ? h("span", { class: "mono", "data-testid": "run-model" }, openai.model) : "—");
  fill(reps, h("span", { "data-testid": "run-replicas" }, `${replicas.ready ?? 0}/${replicas.desired ?? 0}`));
  fill(engine, engineCell(status));
}

export function mountRunsList(root) {
  const banner = h("div", { class: "banner banner-error", role: "alert", "data-testid": "runs-error", hidden: true });
  const tbody = h("tbody");
  const table = h("table", { class: "runs", "aria-label": "Runs", "data-testid": "runs-table" },
    h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))), tbody);
  const empty = h("div", { class: "empty", "data-testid": "runs-empty", hidden: true },
    h("p", {}, "No runs yet."),
    h("p", { class: "muted" }, "Serve a model with ", h("code", {}, "modelserve serve"),
      " (the offline demo) or ", h("code", {}, "modelserve serve examples/vllmserve-text.yaml"), "."));
  const count = h("span", { class: "muted", "data-testid": "runs-count" });
  root.append(h("section", { class: "card", "aria-label": "Runs list" },
    h("div", { class: "card-head" }, h("h2", {}, "Runs ", count)), banner,
    h("div", { class: "table-wrap" }, table), empty));

  const rows = new Map();
  const show = (run) => {
    let row = rows.get(run.id);
    if (!row) {
      row = createRow(run, (next) => updateRow(rows.get(next.id), next));
      rows.set(run.id, row);
    }
    updateRow(row, run);
    return row;
  };

  async function refresh() {
    let runs;
    try {
      runs = await listRuns();
    } catch (err) {
      banner.textContent = `Cannot list runs: ${err.message}`;
      banner.hidden = false;
      return;
    }
    banner.hidden = true;
    runs.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    const seen = new Set(runs.map((r) => r.id));
    for (const [id, row] of rows) {
      if (!seen.has(id)) { row.tr.remove(); row.errorTr.remove(); rows.delete(id); }
    }
    // Move only rows that are out of place, so a focused button keeps its focus across polls.
    const wanted = runs.flatMap((run) => { const row = show(run); return [row.tr, row.errorTr]; });
    wanted.forEach((node, i) => {
      if (tbody.children[i] !== node) tbody.insertBefore(node, tbody.children[i] || null);
    });
    table.hidden = !runs.length;
    empty.hidden = runs.length > 0;
    count.textContent = runs.length ? `(${runs.length})` : "";
  }

  document.title = "Runs · modelserve";
  return every(2000, refresh);
}
