// What the terminal app acknowledges after a poll, and how (terminal_app/web/js/acks.js): one
// call for one document, one call for several, a refused one answered without failing the rest.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  ACK_BATCH_MAX,
  SHOWN_STATES,
  acknowledgeAll,
  acknowledgedNews,
  toAcknowledge,
} from "../../terminal_app/web/js/acks.js";
import { ApiError } from "../../terminal_app/web/js/api.js";
import { setLanguage, t } from "../../terminal_app/web/js/i18n.js";

// A client that records its calls and answers as the gateway would.
function client(refused) {
  var calls = [];
  return {
    calls: calls,
    async acknowledge(id) {
      calls.push(["one", id]);
      if (refused && refused[id]) throw new ApiError(404, { code: "not_found", message: "Не найдено." });
      return { delivery_id: id, state: "downloaded" };
    },
    async acknowledgeMany(ids) {
      calls.push(["many", ids]);
      return {
        answers: ids.map(function (id) {
          return refused && refused[id]
            ? { delivery_id: id, code: "not_found", message: "Не найдено." }
            : { delivery_id: id, state: "downloaded" };
        }),
      };
    },
  };
}

test("a poll's withdrawals and waiting documents are acknowledged, each once", () => {
  var inbox = {
    withdrawn: [{ delivery_id: "w1", reason: "recalled" }],
    documents: [
      { delivery_id: "d1", state: "waiting" },
      { delivery_id: "d2", state: "downloaded" },
      { delivery_id: "d3", state: "in_progress" },
      { delivery_id: "d4", state: "waiting" },
      { delivery_id: "d1", state: "waiting" },
    ],
  };
  assert.deepEqual(toAcknowledge(inbox), ["w1", "d1", "d4"]);
  assert.deepEqual(toAcknowledge({ withdrawn: [], documents: [{ delivery_id: "d2", state: "done" }] }), []);
});

test("several documents go in one call and one refused leaves the others acknowledged", async () => {
  var gateway = client({ d2: true });
  var answers = await acknowledgeAll(gateway, ["d1", "d2", "d3"]);
  assert.deepEqual(gateway.calls, [["many", ["d1", "d2", "d3"]]]);
  assert.deepEqual(answers, {
    d1: { state: "downloaded" },
    d2: { code: "not_found", message: "Не найдено." },
    d3: { state: "downloaded" },
  });
});

test("one document goes by its own call, a refusal of it answered the same way", async () => {
  var gateway = client({ gone: true });
  assert.deepEqual(await acknowledgeAll(gateway, ["d1"]), { d1: { state: "downloaded" } });
  assert.deepEqual(await acknowledgeAll(gateway, ["gone"]), {
    gone: { code: "not_found", message: "Не найдено." },
  });
  assert.deepEqual(await acknowledgeAll(gateway, []), {});
  assert.deepEqual(gateway.calls, [["one", "d1"], ["one", "gone"]]);
});

test("more than one call takes are sent in several calls", async () => {
  var gateway = client();
  var ids = [];
  for (var n = 0; n < ACK_BATCH_MAX + 2; n++) ids.push("d" + n);
  var answers = await acknowledgeAll(gateway, ids);
  assert.deepEqual(gateway.calls.map(function (c) { return c[1].length; }), [ACK_BATCH_MAX, 2]);
  assert.equal(Object.keys(answers).length, ids.length);
});

test("a failure of the whole call is thrown, for the poll to try again", async () => {
  var failing = {
    async acknowledge() { throw new ApiError(503, { code: "storage_unavailable" }); },
    async acknowledgeMany() { throw new ApiError(401, { code: "device_blocked" }); },
  };
  await assert.rejects(acknowledgeAll(failing, ["d1"]), { status: 503 });
  await assert.rejects(acknowledgeAll(failing, ["d1", "d2"]), { status: 401 });
});

test("an acknowledgement's state is kept only where a card shows it; a withdrawal drops the document", () => {
  var news = acknowledgedNews({
    d1: { state: "downloaded" },
    d2: { state: "in_progress" },
    d3: { state: "withdrawal_seen" },
    d4: { state: "done" },
    d5: { state: "routed" },
    d6: { code: "not_found", message: "Не найдено." },
  });
  assert.deepEqual(news, { states: { d1: "downloaded", d2: "in_progress" }, withdrawn: ["d3"] });
});

test("every state kept from an acknowledgement has a label in both languages", () => {
  globalThis.document = { documentElement: {} }; // what setLanguage marks
  ["ru", "en"].forEach(function (language) {
    setLanguage(language);
    SHOWN_STATES.forEach(function (state) {
      assert.notEqual(t("state_" + state), "state_" + state, language + ": state_" + state);
    });
  });
  assert.equal(t("state_withdrawal_seen"), "state_withdrawal_seen"); // why it is never kept
  setLanguage("ru");
});

// A gateway of the release before: no call for several, so that route answers `status`.
function oldGateway(status, refused) {
  var gateway = client(refused);
  gateway.acknowledgeMany = async function (ids) {
    gateway.calls.push(["many", ids]);
    throw new ApiError(status, status === 404 ? { detail: "Not Found" } : { detail: "Method Not Allowed" });
  };
  return gateway;
}

test("on a gateway without the call for several, each goes by its own call, for the rest of the session", async () => {
  for (var status of [404, 405]) {
    var gateway = oldGateway(status, { d2: true });
    var session = {};
    var answers = await acknowledgeAll(gateway, ["d1", "d2", "d3"], session);
    assert.deepEqual(answers, {
      d1: { state: "downloaded" },
      d2: { code: "not_found", message: "Не найдено." },
      d3: { state: "downloaded" },
    });
    await acknowledgeAll(gateway, ["d4", "d5"], session); // remembered: not asked again
    assert.deepEqual(gateway.calls, [
      ["many", ["d1", "d2", "d3"]],
      ["one", "d1"],
      ["one", "d2"],
      ["one", "d3"],
      ["one", "d4"],
      ["one", "d5"],
    ]);
  }
});

test("without a session kept, a gateway without the call for several is asked again next time", async () => {
  var gateway = oldGateway(404);
  await acknowledgeAll(gateway, ["d1", "d2"]);
  await acknowledgeAll(gateway, ["d3", "d4"]);
  assert.deepEqual(
    gateway.calls.map(function (c) { return c[0]; }),
    ["many", "one", "one", "many", "one", "one"],
  );
});
