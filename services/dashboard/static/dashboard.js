// The operator page's live part: polls the dashboard's JSON endpoints and redraws the tables
// and the throughput chart. Data goes into the page as text only, never as HTML.
(function () {
  "use strict";

  const { L, lang, TOKEN_KEY, el, token } = window.tsdxPage;
  const API = "/api/v1/dashboard";
  const SVG = "http://www.w3.org/2000/svg";

  function label(key, fallback) {
    return L[key] !== undefined ? L[key] : fallback;
  }

  // Names and identifiers (bases, processes, codes, queues, devices, logins) are shown as they
  // are: marked translate="no", for the browser's translator and for the page's language test.
  function asIs(text) {
    return el("span", { translate: "no" }, text);
  }

  function time(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleTimeString(lang === "en" ? "en-GB" : "ru-RU");
  }

  function dateTime(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "ru-RU");
  }

  function call(path, options) {
    return window.tsdxPage.call(API + path, options);
  }

  function fill(tableId, rows, emptyText, columns) {
    const body = document.querySelector("#" + tableId + " tbody");
    if (rows.length === 0 && emptyText !== null) {
      rows = [el("tr", { class: "empty" }, el("td", { colspan: columns }, emptyText))];
    }
    body.replaceChildren(...rows);
  }

  // The target as asked (its kind in words, its value as is), then whom it reached: the
  // server names those in the page's language.
  function targetCell(entry) {
    const cell = el("td", {});
    if (!entry.target) return cell;
    cell.append(label("target_" + entry.target.kind, entry.target.kind));
    if (entry.target.value) cell.append(" ", asIs(entry.target.value));
    if (entry.resolved.length) {
      cell.append(" → ");
      entry.resolved.forEach((recipient, n) => {
        if (n) cell.append(", ");
        cell.append(...recipientParts(recipient));
      });
    }
    return cell;
  }

  // "группа Смена 1": the kind's word (the page's language) and the name, shown as it is.
  function recipientParts(recipient) {
    for (const kind of ["group", "user"]) {
      const word = L["target_" + kind] + " ";
      if (recipient.indexOf(word) === 0) return [word, asIs(recipient.slice(word.length))];
    }
    return [asIs(recipient)]; // a device: its PIN and name
  }

  function outcomeCell(entry) {
    const cell = el("td", { class: "outcome " + entry.outcome });
    cell.append(el("span", { class: "badge" }, label("outcome_" + entry.outcome, entry.outcome)));
    if (entry.repeat) cell.append(" ", el("span", { class: "badge repeat" }, L.repeat));
    if (entry.code) {
      cell.append(el("div", { class: "code", title: entry.message || "", translate: "no" }, entry.code));
    }
    return cell;
  }

  function feedRow(entry) {
    return el(
      "tr",
      { "data-request-id": entry.request_id || null, "data-kind": entry.kind, title: entry.message || null },
      el("td", {}, time(entry.at)),
      el("td", { translate: "no" }, entry.tenant),
      el("td", { class: "mono", translate: "no" }, entry.request_id || entry.document),
      el("td", { translate: "no" }, entry.process),
      el("td", {}, entry.channel ? label("channel_" + entry.channel, entry.channel) : ""),
      targetCell(entry),
      outcomeCell(entry),
      el("td", { class: "num" }, entry.latency_ms === null ? "" : entry.latency_ms + " " + L.ms),
    );
  }

  function drawChart(throughput) {
    const svg = document.getElementById("throughput");
    const points = throughput.points;
    const width = 600, height = 120, top = 14;
    const step = width / Math.max(points.length, 1);
    const peak = Math.max(0, ...points.map((p) => p.accepted + p.refused));
    const scale = (height - top) / Math.max(peak, 1);
    const shapes = [];
    points.forEach((p, i) => {
      const x = i * step + 1, w = Math.max(step - 2, 1);
      const acceptedH = p.accepted * scale, refusedH = p.refused * scale;
      const tip = time(new Date(p.at * 1000).toISOString()) + ": " + p.accepted + " / " + p.refused;
      for (const [cls, h, y] of [
        ["accepted", acceptedH, height - acceptedH],
        ["refused", refusedH, height - acceptedH - refusedH],
      ]) {
        if (h <= 0) continue;
        const rect = document.createElementNS(SVG, "rect");
        rect.setAttribute("x", x);
        rect.setAttribute("y", y);
        rect.setAttribute("width", w);
        rect.setAttribute("height", h);
        rect.setAttribute("class", cls);
        const title = document.createElementNS(SVG, "title");
        title.textContent = tip;
        rect.append(title);
        shapes.push(rect);
      }
    });
    document.getElementById("throughput-peak").textContent = L.peak.replace("{count}", peak);
    const baseline = document.createElementNS(SVG, "line");
    baseline.setAttribute("x1", 0);
    baseline.setAttribute("x2", width);
    baseline.setAttribute("y1", height - 0.5);
    baseline.setAttribute("y2", height - 0.5);
    svg.replaceChildren(baseline, ...shapes);
  }

  function showActivity(activity) {
    for (const [name, value] of Object.entries(activity.counters)) {
      const node = document.getElementById("c-" + name);
      if (node) node.textContent = value;
    }
    fill("feed", activity.feed.map(feedRow), L.empty_feed, 8);
    fill(
      "refusals",
      activity.refusals.map((r) =>
        el(
          "tr",
          { "data-code": r.code },
          el("td", {}, label("kind_" + r.kind, r.kind)),
          el("td", { class: "mono", translate: "no" }, r.code),
          el("td", {}, r.message),
          el("td", { class: "num" }, r.count),
        ),
      ),
      L.empty_refusals,
      4,
    );
    drawChart(activity.throughput);
  }

  function showDevices(devices) {
    fill(
      "devices",
      devices.map((d) => {
        const presence = d.online === null ? "unknown" : d.online ? "online" : "offline";
        return el(
          "tr",
          { "data-device-id": d.id },
          el("td", { class: "mono" }, d.pin),
          el(
            "td",
            { title: d.hardware_id, translate: "no" },
            [...new Set([d.name, d.model].filter(Boolean))].join(" · ") || d.hardware_id,
          ),
          el("td", { translate: "no" }, d.tenant),
          el("td", {}, label("mode_" + d.mode, d.mode)),
          el("td", {}, label("status_" + d.status, d.status)),
          el("td", { class: "presence " + presence }, label("presence_" + presence, presence)),
          el("td", {}, dateTime(d.last_seen)),
        );
      }),
      L.empty_devices,
      7,
    );
  }

  function showQueues(queues) {
    fill(
      "queues",
      queues.map((q) =>
        el(
          "tr",
          { "data-queue": q.name, class: q.parked ? "has-parked" : null },
          el("td", { class: "mono", translate: "no" }, q.name),
          el("td", {}, label("queue_" + q.type, q.type)),
          el("td", { class: "num" }, q.ready),
          el("td", { class: "num" }, q.unacked),
          el("td", { class: "num" }, q.consumers),
          el("td", { class: "num" }, q.retrying),
          el("td", { class: "num parked" }, q.parked),
        ),
      ),
      null,
      7,
    );
  }

  function showParked(parked) {
    fill(
      "parked",
      parked.map((m) => {
        const button = el("button", { type: "button", class: "replay" }, L.replay);
        button.addEventListener("click", () => replay(m.queue, m.message_id, button));
        const drop = el("button", { type: "button", class: "discard" }, L.discard);
        drop.addEventListener("click", () => discard(m.queue, m.message_id, drop));
        // A message without an id cannot be named: RabbitMQ's own UI takes it.
        if (!m.message_id) button.disabled = drop.disabled = true;
        return el(
          "tr",
          { "data-message-id": m.message_id, "data-queue": m.queue },
          el("td", { class: "mono", translate: "no" }, m.queue),
          el(
            "td",
            { class: "mono", title: m.body_preview, translate: "no" },
            (m.type ? m.type + " · " : "") + m.message_id,
          ),
          // The handler's own words, as its log has them: a diagnosis, shown as it was written.
          el("td", { class: "reason", translate: "no" }, m.reason),
          el("td", {}, dateTime(m.parked_at)),
          el("td", { class: "actions" }, button, " ", drop),
        );
      }),
      L.empty_parked,
      5,
    );
  }

  function showTenants(tenants) {
    fill(
      "tenants",
      tenants.map((t) => {
        const button = el("button", { type: "button", class: "new-code" }, L.new_code);
        button.addEventListener("click", () => newCode(t.tenant, button));
        return el(
          "tr",
          { "data-tenant": t.tenant },
          el("td", { class: "mono", translate: "no" }, t.tenant),
          el("td", { translate: "no" }, t.name),
          el("td", { class: "num" }, t.devices),
          el("td", {}, button),
        );
      }),
      L.empty_bases,
      4,
    );
  }

  // A connection code is kept hashed: the page can show one only as it is issued.
  async function newCode(tenant, button) {
    if (!window.confirm(L.new_code_confirm.replace("{tenant}", tenant))) return;
    const box = document.getElementById("new-code");
    const text = document.getElementById("new-code-text");
    const qr = document.getElementById("new-code-qr");
    button.disabled = true;
    try {
      const answer = await call("/tenants/" + encodeURIComponent(tenant) + "/connection-code", {
        method: "POST",
      });
      text.textContent = L.new_code_shown.replace("{tenant}", tenant).replace("{code}", answer.connection_code);
      // The SVG is made by the dashboard itself from the code (segno), not from user input.
      const svg = new DOMParser().parseFromString(answer.qr_svg, "image/svg+xml").documentElement;
      qr.replaceChildren(document.importNode(svg, true));
    } catch (error) {
      text.textContent = error.message;
      qr.replaceChildren();
    }
    box.hidden = false;
    button.disabled = false;
  }

  async function refreshTenants() {
    try {
      showTenants((await call("/tenants")).tenants);
    } catch (error) {
      // The status line already says why nothing answers.
    }
  }

  const tokenInput = document.getElementById("admin-token");
  const replayStatus = document.getElementById("replay-status");
  tokenInput.value = token();
  tokenInput.addEventListener("input", () => {
    sessionStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
    refreshActivity();
    refreshBroker();
    refreshTenants();
  });
  if (!token()) tokenInput.focus();

  // What the operator does to one parked message (replay, discard): the call, and its count
  // said in the status line; the button is given back if the call failed.
  async function onParked(action, queue, messageId, button) {
    button.disabled = true;
    try {
      const answer = await call("/parked/" + action, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ queue: queue, message_id: messageId }),
      });
      const done = action === "replay" ? L.replayed : L.discarded;
      replayStatus.textContent = done.replace("{count}", answer[action + "ed"]);
    } catch (error) {
      replayStatus.textContent = error.message;
      button.disabled = false;
    }
    await refreshBroker();
  }

  function replay(queue, messageId, button) {
    return onParked("replay", queue, messageId, button);
  }

  function discard(queue, messageId, button) {
    const asked = L.discard_confirm.replace("{message}", messageId).replace("{queue}", queue);
    if (window.confirm(asked)) return onParked("discard", queue, messageId, button);
  }

  const status = document.getElementById("status");

  async function refreshActivity() {
    try {
      const [activity, devices] = await Promise.all([call("/activity?limit=50"), call("/devices")]);
      showActivity(activity);
      showDevices(devices.devices);
      status.textContent = L.updated + " " + time(new Date().toISOString());
      status.classList.remove("warning");
    } catch (error) {
      // A token refused (401) is said as the server words it: the dashboard did answer.
      const said = error.status === 401 ? error.message : L.no_answer + ": " + error.message;
      status.textContent = token() ? said : L.token_needed;
      status.classList.add("warning");
    }
  }

  let parkedFailed = false;

  // One refresh at a time (with a node of the broker away, one may outlast the period); one
  // asked for meanwhile (after a replay, a new token) runs once the current one ends.
  let refreshingBroker = null;
  let brokerAgain = false;
  async function refreshBroker() {
    if (refreshingBroker) {
      brokerAgain = true;
      return refreshingBroker;
    }
    refreshingBroker = (async () => {
      try {
        do {
          brokerAgain = false;
          await refreshBrokerOnce();
        } while (brokerAgain);
      } finally {
        refreshingBroker = null;
      }
    })();
    return refreshingBroker;
  }

  async function refreshBrokerOnce() {
    const queuesError = document.getElementById("queues-error");
    try {
      showQueues((await call("/queues")).queues);
      queuesError.hidden = true;
    } catch (error) {
      queuesError.textContent = error.message;
      queuesError.hidden = false;
    }
    try {
      showParked((await call("/parked")).parked);
      if (parkedFailed) replayStatus.textContent = "";  // the problem is over; say nothing
      parkedFailed = false;
    } catch (error) {
      replayStatus.textContent = error.message;
      parkedFailed = true;
    }
  }

  refreshActivity();
  refreshBroker();
  refreshTenants();
  setInterval(refreshActivity, 1500);
  setInterval(refreshTenants, 10000);
  setInterval(refreshBroker, 2000);
})();
