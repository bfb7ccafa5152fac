// amc-magic dashboard: the executions table, filters, auto-refresh and a detail pane.
// Plain JavaScript over the REST API at {base}/amc-magic/api/ (same-origin cookie auth; POST sends
// the XSRF token Jupyter put into <body data-xsrf>). No dependencies, no build step.
(function () {
  "use strict";

  const body = document.body;
  const base = (body.dataset.baseUrl || "/").replace(/\/?$/, "/");
  const api = base + "amc-magic/api/";
  const xsrf = body.dataset.xsrf || "";
  const REFRESH_MS = 3000;
  const $ = (id) => document.getElementById(id);

  let cursor = "";
  let selected = null;
  let timer = null;

  async function request(path, options) {
    const init = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    if (init.method && init.method !== "GET") init.headers["X-XSRFToken"] = xsrf;
    const response = await fetch(api + path, init);
    const text = await response.text();
    let payload = null;
    try { payload = text ? JSON.parse(text) : null; } catch (_) { payload = null; }
    if (!response.ok) {
      const message = (payload && payload.message) || response.status + " " + response.statusText;
      const hint = payload && payload.hint ? " " + payload.hint : "";
      throw new Error(message + hint);
    }
    return payload;
  }

  function showError(error) {
    const box = $("error");
    if (error) { box.textContent = String(error.message || error); box.hidden = false; }
    else { box.textContent = ""; box.hidden = true; }
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, value);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function statusBadge(status) {
    return el("span", { class: "status status-" + status, "data-status": status }, status);
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "";
    // As the notebook writes them (amc_magic.durations): 42s, 3m 05s, 2h 04m.
    const s = Math.round(seconds);
    const two = (n) => String(n).padStart(2, "0");
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + two(s % 60) + "s";
    return Math.floor(s / 3600) + "h " + two(Math.floor((s % 3600) / 60)) + "m";
  }

  function when(iso) {
    return iso ? iso.replace("T", " ").replace(/(\.\d+)?Z$/, "") : "";
  }

  function filterQuery() {
    const params = new URLSearchParams();
    for (const [id, name] of [["filter-status", "status"], ["filter-instance", "instance"],
                              ["filter-workflow", "workflow"], ["filter-since", "since"], ["filter-limit", "limit"]]) {
      const value = $(id).value.trim();
      if (value) params.set(name, value);
    }
    return params.toString();
  }

  function renderRows(executions) {
    const tbody = $("executions").tBodies[0];
    tbody.replaceChildren();
    for (const row of executions) {
      const tr = el("tr", { "data-id": row.id, "data-status": row.status, "data-live": String(row.live) });
      if (row.id === selected) tr.classList.add("selected");
      const status = el("td", { "data-col": "status" });
      status.append(statusBadge(row.status));
      tr.append(
        status,
        el("td", { "data-col": "id", class: "mono", title: row.amc_execution_id || "" }, row.short_id),
        el("td", { "data-col": "instance" }, row.instance_id),
        el("td", { "data-col": "window" }, row.window),
        el("td", { "data-col": "submitted" }, when(row.submitted_at || row.created_at)),
        el("td", { "data-col": "duration" }, duration(row.duration_seconds)),
        el("td", { "data-col": "rows", class: "num" }, row.row_count === null ? "" : row.row_count.toLocaleString()),
        el("td", { "data-col": "sql", title: row.sql_summary }, row.sql_summary),
      );
      tr.addEventListener("click", () => openDetail(row.id));
      tbody.append(tr);
    }
    $("empty").hidden = executions.length > 0;
  }

  async function loadList() {
    const query = filterQuery();
    const payload = await request("executions" + (query ? "?" + query : ""));
    renderRows(payload.executions);
    $("executions").dataset.count = String(payload.count);
  }

  function field(list, name, value) {
    if (value === null || value === undefined || value === "") return;
    list.append(el("dt", {}, name), el("dd", { "data-field": name }, value));
  }

  async function openDetail(id) {
    selected = id;
    for (const tr of $("executions").tBodies[0].rows) tr.classList.toggle("selected", tr.dataset.id === id);
    try {
      const detail = await request("executions/" + encodeURIComponent(id));
      renderDetail(detail);
      if (location.hash !== "#" + id) history.replaceState(null, "", "#" + id);
      await loadPreview(detail);
      showError(null);
    } catch (error) {
      showError(error);
    }
  }

  function renderDetail(d) {
    const pane = $("detail");
    pane.hidden = false;
    pane.dataset.id = d.id;
    pane.dataset.status = d.status;
    $("detail-title").textContent = "Execution " + d.short_id;
    $("detail-status").replaceWith(Object.assign(statusBadge(d.status), { id: "detail-status" }));
    const reason = $("detail-reason");
    reason.textContent = d.status_reason || "";
    reason.hidden = !d.status_reason;
    const list = $("detail-fields");
    list.replaceChildren();
    field(list, "local id", d.id);
    field(list, "AMC id", d.amc_execution_id);
    field(list, "instance", d.instance_id);
    field(list, "window", d.window);
    field(list, "time zone", d.time_zone);
    field(list, "created", when(d.created_at));
    field(list, "submitted", when(d.submitted_at));
    field(list, "started", when(d.started_at));
    field(list, "finished", when(d.finished_at));
    field(list, "last polled", when(d.last_polled_at));
    field(list, "polls", d.poll_count);
    field(list, "duration", duration(d.duration_seconds));
    field(list, "rows", d.row_count);
    field(list, "columns", d.output_columns ? d.output_columns.map((c) => c.name + " " + c.dataType).join(", ") : null);
    field(list, "followed by", d.lease ? d.lease.owner : null);
    $("detail-sql").textContent = d.sql;
    const resultUrl = api + "executions/" + encodeURIComponent(d.id) + "/result?format=";
    for (const [id, kind] of [["download-csv", "csv"], ["download-parquet", "parquet"]]) {
      const link = $(id);
      link.href = resultUrl + kind;
      link.setAttribute("download", "amc-" + d.short_id + "." + kind);
      link.hidden = !d.has_result;
    }
    $("cancel").hidden = !d.live;
    $("cancel").dataset.id = d.id;
  }

  async function loadPreview(d) {
    const table = $("preview");
    table.tHead.replaceChildren();
    table.tBodies[0].replaceChildren();
    const note = $("preview-note");
    if (!d.has_result) {
      note.textContent = d.live ? "No result yet: the execution is " + d.status + "." : "No stored result.";
      return;
    }
    const preview = await request("executions/" + encodeURIComponent(d.id) + "/preview?limit=50");
    const head = el("tr");
    for (const name of preview.columns) head.append(el("th", {}, name));
    table.tHead.append(head);
    for (const values of preview.rows) {
      const tr = el("tr");
      for (const value of values) tr.append(el("td", {}, value === null ? "" : value));
      table.tBodies[0].append(tr);
    }
    note.textContent = preview.truncated
      ? "First " + preview.rows.length + " of " + preview.row_count.toLocaleString() + " rows."
      : preview.row_count.toLocaleString() + " rows.";
  }

  async function cancelSelected() {
    const id = $("cancel").dataset.id;
    if (!id || !window.confirm("Cancel this execution on AMC?")) return;
    $("cancel").disabled = true;
    try {
      renderDetail(await request("executions/" + encodeURIComponent(id) + "/cancel", { method: "POST" }));
      await loadList();
      showError(null);
    } catch (error) {
      showError(error);
    } finally {
      $("cancel").disabled = false;
    }
  }

  async function poll() {
    try {
      const payload = await request("changes" + (cursor ? "?since=" + encodeURIComponent(cursor) : ""));
      const changed = payload.executions || [];
      if (cursor && changed.length) {
        await loadList();
        if (selected && changed.some((row) => row.id === selected)) await openDetail(selected);
      }
      cursor = payload.cursor;
      const stamp = $("last-refresh");
      stamp.dataset.cursor = cursor;
      stamp.textContent = "updated " + new Date().toLocaleTimeString();
      showError(null);
    } catch (error) {
      showError(error);
    }
  }

  function schedule() {
    if (timer) clearInterval(timer);
    timer = $("auto-refresh").checked ? setInterval(poll, REFRESH_MS) : null;
  }

  async function showPoller() {
    try {
      const status = await request("status");
      const poller = status.poller;
      $("poller-status").textContent = poller
        ? "poller " + (poller.running ? "on" : "off") + ", following " + poller.following.length
        : "poller disabled";
    } catch (_) { /* the table shows errors */ }
  }

  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    loadList().then(() => showError(null), showError);
  });
  for (const id of ["filter-status", "filter-since"]) {
    $(id).addEventListener("change", () => loadList().then(() => showError(null), showError));
  }
  $("auto-refresh").addEventListener("change", schedule);
  $("detail-close").addEventListener("click", () => {
    $("detail").hidden = true;
    selected = null;
    history.replaceState(null, "", location.pathname + location.search);
    for (const tr of $("executions").tBodies[0].rows) tr.classList.remove("selected");
  });
  $("cancel").addEventListener("click", cancelSelected);

  loadList()
    .then(() => { showError(null); if (location.hash.length > 1) openDetail(decodeURIComponent(location.hash.slice(1))); })
    .catch(showError)
    .finally(() => { body.dataset.ready = "true"; });
  poll();
  showPoller();
  schedule();
})();
