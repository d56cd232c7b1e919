// Console entry point: picks the view from location.pathname and fills in the header.

import { mountRunPage } from "./run.js";
import { mountRunsList } from "./runs.js";

function serverUrl() {
  const meta = document.querySelector('meta[name="modelserve-server"]');
  const value = meta ? meta.content : "";
  return value && !value.startsWith("__") ? value : window.location.origin;
}

function start() {
  const server = document.querySelector("[data-testid=server-url]");
  if (server) server.textContent = serverUrl();
  const main = document.getElementById("main");
  const match = window.location.pathname.match(/^\/console\/runs\/([^/]+)\/?$/);
  if (match) mountRunPage(main, decodeURIComponent(match[1]));
  else mountRunsList(main);
}

start();
