// The document search: finds documents of every base by accounting id, number or device PIN
// and shows the chosen one's state and timeline, polled while it is open so new steps appear
// as they happen. Data goes into the page as text only, never as HTML.
(function () {
  "use strict";

  const { L, lang, el } = window.tsdxPage;
  const API = "/api/v1/dashboard/documents";
  const POLL_MS = 2000;
  let open = null; // {tenant, document_id} of the document shown
  let polling = null;

  function text(key, fallback, params) {
    let value = L[key] !== undefined ? L[key] : fallback;
    for (const [name, v] of Object.entries(params || {})) value = value.replace("{" + name + "}", v);
    return value;
  }

  function call(path) {
    return window.tsdxPage.call(API + path);
  }

  function who(step) {
    // A device the directory no longer holds is named by its id.
    if (step.device) return ((step.device.pin || step.device.id) + " " + (step.device.name || "")).trim();
    if (step.user) return step.user;
    if (step.target) return text("target_" + step.target.kind, step.target.kind) + " " + (step.target.value || "");
    return "";
  }

  function details(step) {
    const parts = [];
    if ("final" in step) parts.push(text(step.final ? "journey_final" : "journey_partial", ""));
    if ("lines" in step) parts.push(text("journey_lines", "", { count: step.lines }));
    if (step.channel) parts.push(text("channel_" + step.channel, step.channel));
    for (const key of ["process", "reason"]) if (step[key]) parts.push(step[key]);
    if (step.mode) parts.push(text("mode_" + step.mode, step.mode));
    if (step.attempts) parts.push(text("journey_attempts", "", { count: step.attempts }));
    if (step.code) parts.push(step.code);
    return parts.join(", ");
  }

  function dateTime(iso) {
    return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "ru-RU");
  }

  function showJourney(view) {
    const number = view.number ? " № " + view.number : "";
    document.getElementById("journey-heading").textContent =
      (view.accounting_type || "") + number + " · " + view.tenant + " · " + view.document_id;
    const state = document.getElementById("journey-state");
    state.textContent = text("journey_state_" + view.state, view.state);
    state.dataset.state = view.state;
    const rows = view.timeline.map((step) =>
      el(
        "tr",
        { "data-step": step.step },
        el("td", {}, dateTime(step.at)),
        el("td", {}, text("journey_step_" + step.step, step.step)),
        el("td", { class: "mono" }, step.service),
        el("td", {}, who(step)),
        el("td", {}, details(step))
      )
    );
    document.querySelector("#journey-timeline tbody").replaceChildren(...rows);
    // The gateway did not answer: its steps (pushes, pulls) may be missing from this view.
    document.getElementById("journey-incomplete").hidden = !(view.incomplete || []).includes("gateway");
    document.getElementById("journey-document").hidden = false;
  }

  async function refresh() {
    if (!open || document.hidden) return;
    try {
      showJourney(await call("/" + encodeURIComponent(open.tenant) + "/" + encodeURIComponent(open.document_id)));
    } catch (error) {
      document.getElementById("journey-status").textContent = error.message;
    }
  }

  function openDocument(found) {
    open = { tenant: found.tenant, document_id: found.document_id };
    clearInterval(polling);
    polling = setInterval(refresh, POLL_MS);
    return refresh();
  }

  function showMatches(documents) {
    const items = documents.map((found) => {
      const button = el(
        "button",
        { type: "button", class: "link", "data-document-id": found.document_id },
        (found.number ? "№ " + found.number + " · " : "") + found.tenant + " · " + found.document_id,
        " — " + text("journey_state_" + found.state, found.state)
      );
      button.addEventListener("click", () => openDocument(found));
      return el("li", {}, button);
    });
    document.getElementById("journey-matches").replaceChildren(...(documents.length > 1 ? items : []));
  }

  async function search(event) {
    event.preventDefault();
    const query = document.getElementById("journey-query").value.trim();
    const status = document.getElementById("journey-status");
    if (!query) return;
    status.textContent = text("journey_searching", "…");
    try {
      const found = (await call("?q=" + encodeURIComponent(query))).documents;
      showMatches(found);
      if (found.length === 0) {
        open = null;
        clearInterval(polling);
        document.getElementById("journey-document").hidden = true;
        status.textContent = text("journey_not_found", query, { query: query });
        return;
      }
      status.textContent = "";
      await openDocument(found[0]);
    } catch (error) {
      status.textContent = error.message;
    }
  }

  document.getElementById("journey-form").addEventListener("submit", search);
})();
