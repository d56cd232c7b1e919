// Run page (/console/runs/<id>): details, snippets, chat or embeddings box, events and logs.

import { getRun } from "./api.js";
import { createActions } from "./actions.js";
import { createChat } from "./chat.js";
import { isChatRun, isEmbeddingRun } from "./chat_model.js";
import { createEmbedBox } from "./embed.js";
import { every, fill, h, stateBadge } from "./dom.js";
import { eventsCard, logsCard } from "./run_activity.js";
import { openaiCard, snippetsCard, statusCard } from "./run_details.js";

function notFound(root, runId, message) {
  fill(root, h("section", { class: "card" },
    h("div", { class: "banner banner-error", role: "alert", "data-testid": "run-missing" }, message),
    h("p", {}, h("a", { href: "/console" }, "← Back to all runs"))));
  document.title = `Run ${runId} · modelserve`;
}

/** The interactive panel for the run's features, built once when they are first known. */
function tryPanel(run) {
  const features = ((run.status || {}).openai || {}).features || [];
  if (isChatRun(features)) return createChat(run.id);
  if (isEmbeddingRun(features)) return createEmbedBox();
  return null;
}

export async function mountRunPage(root, runId) {
  let run;
  try {
    run = await getRun(runId);
  } catch (err) {
    notFound(root, runId, err.status === 404 ? `Run ${runId} not found.` : `Cannot load run ${runId}: ${err.message}`);
    return () => {};
  }
  const title = h("h1", { "data-testid": "run-title" });
  const badge = h("span");
  const pollError = h("div", { class: "banner banner-error", role: "alert", hidden: true });
  const actions = createActions(run, (next) => apply(next));
  const status = statusCard();
  const openai = openaiCard();
  const code = snippetsCard();
  const events = eventsCard(runId);
  const logs = logsCard(runId);
  let panel = tryPanel(run);

  const side = h("div", { class: "stack" }, status.el, openai.el, code.el);
  const mainCol = h("div", { class: "stack" }, panel ? panel.el : null, events.el);
  fill(root,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/console", "data-testid": "back" }, "Runs"), " / ", h("span", { class: "mono" }, runId)),
    h("div", { class: "page-head" }, h("div", { class: "title-row" }, title, badge),
      h("div", {}, actions.buttons, actions.error)),
    pollError,
    h("div", { class: "run-grid" }, mainCol, side),
    logs.el);

  let shown = null;
  function apply(next) {
    // Cards are rebuilt only when the run changed, so copy buttons and selections survive polls.
    const signature = JSON.stringify(next);
    if (signature === shown) return;
    shown = signature;
    run = next;
    const st = run.status || {};
    fill(title, `${run.function}`, h("span", { class: "muted title-sub" }, ` ${run.project} · ${run.kind}`));
    fill(badge, stateBadge(st.state));
    document.title = `${run.function} (${st.state || "?"}) · modelserve`;
    actions.update(run);
    status.update(run);
    openai.update(run);
    code.update(run);
    logs.setReplicas(run);
    if (!panel) {
      panel = tryPanel(run);
      if (panel) mainCol.prepend(panel.el);
    }
    if (panel) panel.update(run);
  }

  apply(run);
  const stopEvents = every(2000, events.refresh);
  const stopRun = every(2000, async () => {
    try {
      apply(await getRun(runId));
      pollError.hidden = true;
    } catch (err) {
      pollError.textContent = `Cannot refresh the run: ${err.message}`;
      pollError.hidden = false;
    }
  });
  return () => { stopEvents(); stopRun(); };
}
